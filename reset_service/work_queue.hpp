// SPDX-License-Identifier: Apache-2.0
// The monitor's background worker: one thread running jobs in order, so that mail (and the
// account checks that decide whether to send it) never runs on the request path.
//
// Fair under a flood: each job has a key (the account it is for), and a key has at most one
// job waiting. A second request for an account whose mail is still waiting is merged into
// it (one link is what the user needs), so requests for one account cannot fill the queue
// and push out the mail of another. Bounded: when every slot holds a different account,
// post() refuses the job and the caller reports it; a job bounded by something else (a
// notice per successful password change) may go past the capacity and takes no slot.
// Each job runs watched by the monitor's stall guard: one that never ends ends the process.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "stall_guard.hpp"

namespace resetd {

enum class Posted {
    queued,
    merged,  // a job for the same key was already waiting; this one is not run
    full,    // no room: this one is not run
};

enum class Room {
    bounded,  // refused when the queue is full
    always,   // queued beyond the capacity: for jobs bounded by something else
};

class WorkQueue {
  public:
    // `job` (which must outlive the queue) is marked running while each job runs.
    WorkQueue(std::size_t capacity, StallGuard::Task& job);
    // Finishes the running job, drops the waiting ones, joins the thread.
    ~WorkQueue();
    WorkQueue(const WorkQueue&) = delete;
    WorkQueue& operator=(const WorkQueue&) = delete;

    // A job must not throw (one that does is logged and dropped).
    Posted post(const std::string& key, std::function<void()> job, Room room = Room::bounded);

  private:
    struct Job {
        std::string key;
        std::function<void()> run;
        Room room;
    };
    void run();

    std::size_t capacity_;
    StallGuard::Task& job_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<Job> jobs_;
    std::set<std::string> waiting_keys_;  // the keys in jobs_
    std::size_t bounded_jobs_ = 0;        // the jobs in jobs_ posted with Room::bounded
    bool stopping_ = false;
    std::thread thread_;  // last: started once everything above exists
};

}  // namespace resetd
