// SPDX-License-Identifier: Apache-2.0
// The monitor's answer to a request, or a background job, that never ends: it ends the
// process. A monitor stuck in one request answers nobody (a PAM module waiting for a dead
// server, an NSS lookup that hangs); exiting with kStalledExitStatus lets systemd
// (Restart=on-failure) start a fresh service instead. Watched from a thread of the guard's
// own, so it works whatever the stuck thread is blocked in.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>

namespace resetd {

// The exit status of a monitor that ended itself over a stalled task (totp-resetd(8)).
inline constexpr int kStalledExitStatus = 3;

class StallGuard {
  public:
    // One kind of work that one thread does at a time, with the time it may take.
    class Task {
      public:
        Task(const char* what, std::chrono::milliseconds limit) : what_(what), limit_(limit) {}

      private:
        friend class StallGuard;
        const char* what_;
        std::chrono::milliseconds limit_;
        // When the running piece of work must be done (steady clock, ns); 0: idle.
        std::atomic<std::int64_t> due_{0};
    };

    // Marks a task as running from construction to destruction.
    class Watch {
      public:
        explicit Watch(Task& task);
        ~Watch();
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;

      private:
        Task& task_;
    };

    StallGuard();
    // Stops watching (a task still running is then not ended) and joins the thread.
    ~StallGuard();
    StallGuard(const StallGuard&) = delete;
    StallGuard& operator=(const StallGuard&) = delete;

    // A task to watch; the reference stays valid as long as the guard.
    Task& task(const char* what, std::chrono::milliseconds limit);

  private:
    void run();

    std::mutex mutex_;
    std::condition_variable stop_;
    bool stopping_ = false;
    std::deque<Task> tasks_;  // a deque: references to its elements stay valid
    std::thread thread_;      // last: started once everything above exists
};

}  // namespace resetd
