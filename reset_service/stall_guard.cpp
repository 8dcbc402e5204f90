// SPDX-License-Identifier: Apache-2.0
#include "stall_guard.hpp"

#include <unistd.h>

#include "log.hpp"

namespace resetd {
namespace {

// How often the guard looks: a stalled task ends the process at most this late.
constexpr std::chrono::seconds kCheckPeriod{1};

// The monotonic clock: neither a changed system time nor a suspend counts as work time.
std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

StallGuard::Watch::Watch(Task& task) : task_(task) {
    const auto limit = std::chrono::duration_cast<std::chrono::nanoseconds>(task.limit_);
    task_.due_.store(now_ns() + limit.count(), std::memory_order_relaxed);
}

StallGuard::Watch::~Watch() {
    task_.due_.store(0, std::memory_order_relaxed);
}

StallGuard::StallGuard() : thread_([this] { run(); }) {}

StallGuard::~StallGuard() {
    {
        const std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    stop_.notify_all();
    thread_.join();
}

StallGuard::Task& StallGuard::task(const char* what, std::chrono::milliseconds limit) {
    const std::lock_guard lock(mutex_);
    return tasks_.emplace_back(what, limit);
}

void StallGuard::run() {
    std::unique_lock lock(mutex_);
    while (!stop_.wait_for(lock, kCheckPeriod, [this] { return stopping_; })) {
        const std::int64_t now = now_ns();
        for (const Task& task : tasks_) {
            const std::int64_t due = task.due_.load(std::memory_order_relaxed);
            if (due == 0 || now <= due) continue;
            const auto limit = std::chrono::duration_cast<std::chrono::seconds>(task.limit_);
            log_error("%s ran past its deadline of %lld s; exiting for the service to restart",
                      task.what_, static_cast<long long>(limit.count()));
            // Not exit(): the stuck thread may hold locks that destructors would need.
            ::_exit(kStalledExitStatus);
        }
    }
}

}  // namespace resetd
