// SPDX-License-Identifier: Apache-2.0
#include "work_queue.hpp"

#include <exception>

#include "log.hpp"

namespace resetd {

WorkQueue::WorkQueue(std::size_t capacity, StallGuard::Task& job)
    : capacity_(capacity), job_(job), thread_([this] { run(); }) {}

WorkQueue::~WorkQueue() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
        jobs_.clear();
        waiting_keys_.clear();
        bounded_jobs_ = 0;
    }
    wake_.notify_all();
    thread_.join();
}

Posted WorkQueue::post(const std::string& key, std::function<void()> job, Room room) {
    {
        const std::lock_guard lock(mutex_);
        if (waiting_keys_.contains(key)) return Posted::merged;
        if (room == Room::bounded) {
            if (bounded_jobs_ >= capacity_) return Posted::full;
            ++bounded_jobs_;
        }
        waiting_keys_.insert(key);
        jobs_.push_back(Job{key, std::move(job), room});
    }
    wake_.notify_one();
    return Posted::queued;
}

void WorkQueue::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front().run);
            // From here on a new request for the account queues a new job: this one may
            // already have read what the new request should change.
            waiting_keys_.erase(jobs_.front().key);
            if (jobs_.front().room == Room::bounded) --bounded_jobs_;
            jobs_.pop_front();
        }
        try {
            const StallGuard::Watch watch(job_);
            job();
        } catch (const std::exception& error) {
            log_error("background job failed: %s", error.what());
        } catch (...) {
            log_error("background job failed");
        }
    }
}

}  // namespace resetd
