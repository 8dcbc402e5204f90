// SPDX-License-Identifier: Apache-2.0
// The monitor's background worker: one thread running jobs in order, so that mail (and the
// account checks that decide whether to send it) never runs on the request path. Bounded:
// when full, post() refuses the job and the caller logs it. Each job runs watched by the
// monitor's stall guard: one that never ends ends the process.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "stall_guard.hpp"

namespace resetd {

class WorkQueue {
  public:
    // `job` (which must outlive the queue) is marked running while each job runs.
    WorkQueue(std::size_t capacity, StallGuard::Task& job);
    // Finishes the running job, drops the waiting ones, joins the thread.
    ~WorkQueue();
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    // False if the queue is full. A job must not throw (one that does is logged and dropped).
    bool post(std::function<void()> job);

  private:
    void run();

    std::size_t capacity_;
    StallGuard::Task& job_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::function<void()>> jobs_;
    bool stopping_ = false;
    std::thread thread_;  // last: started once everything above exists
};

}  // namespace resetd
