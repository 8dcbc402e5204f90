// SPDX-License-Identifier: Apache-2.0
#include "rate_limit.hpp"

namespace resetd {

void EventTimes::pop_front() {
    head_ = slot(1);
    --count_;
}

void EventTimes::push_back(std::int64_t time) {
    if (count_ == times_.size()) {
        std::vector<std::int64_t> larger(times_.empty() ? 4 : 2 * times_.size());
        for (std::size_t i = 0; i < count_; ++i) larger[i] = times_[slot(i)];
        times_.swap(larger);
        head_ = 0;
    }
    times_[slot(count_)] = time;
    ++count_;
}

RateLimiter::RateLimiter(int limit, int window_seconds, std::size_t max_keys)
    : limit_(static_cast<std::size_t>(limit)), window_(window_seconds), max_keys_(max_keys) {}

bool RateLimiter::exhausted(std::string_view key, std::int64_t now) {
    const EventTimes* seen = events(key, now, false);
    if (seen != nullptr) return seen->size() >= limit_;
    if (events_.size() >= max_keys_) forget_idle_keys(now);
    return events_.size() >= max_keys_;  // no room to count a new key
}

void RateLimiter::record(std::string_view key, std::int64_t now) {
    if (EventTimes* seen = events(key, now, true)) seen->push_back(now);
}

bool RateLimiter::allow(std::string_view key, std::int64_t now) {
    if (exhausted(key, now)) return false;
    record(key, now);
    return true;
}

// The key's events still inside the window; a new entry when `create` and there is room
// (after dropping keys whose events have all expired). When the table is full of active
// keys, new keys are refused rather than old counts forgotten: failing closed.
EventTimes* RateLimiter::events(std::string_view key, std::int64_t now, bool create) {
    auto found = events_.find(std::string(key));
    if (found == events_.end()) {
        if (!create) return nullptr;
        if (events_.size() >= max_keys_) forget_idle_keys(now);
        if (events_.size() >= max_keys_) return nullptr;
        found = events_.emplace(std::string(key), EventTimes()).first;
    }
    EventTimes& seen = found->second;
    while (!seen.empty() && seen.front() <= now - window_) seen.pop_front();
    return &seen;
}

void RateLimiter::forget_idle_keys(std::int64_t now) {
    std::erase_if(events_, [&](const auto& entry) {
        return entry.second.empty() || entry.second.back() <= now - window_;
    });
}

}  // namespace resetd
