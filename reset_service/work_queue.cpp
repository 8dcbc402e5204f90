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
    }
    wake_.notify_all();
    thread_.join();
}

bool WorkQueue::post(std::function<void()> job) {
    {
        const std::lock_guard lock(mutex_);
        if (jobs_.size() >= capacity_) return false;
        jobs_.push_back(std::move(job));
    }
    wake_.notify_one();
    return true;
}

void WorkQueue::run() {
    for (;;) {
        std::function<void()> job;
        {
            std::unique_lock lock(mutex_);
            wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
            if (stopping_) return;
            job = std::move(jobs_.front());
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
