// SPDX-License-Identifier: Apache-2.0
#include "rate_limit.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace resetd {

namespace {

constexpr std::size_t kMaxIpLength = 64;
constexpr std::size_t kEvictedShare = 8;  // a full table forgets this fraction (1/8) at once

}  // namespace

std::optional<std::string> address_key(std::string_view ip, bool crowded) {
    if (ip.size() > kMaxIpLength) return std::nullopt;
    const std::string text(ip);
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) return text;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
    char out[INET6_ADDRSTRLEN] = {};
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
        ::inet_ntop(AF_INET, v6.s6_addr + 12, out, sizeof out);
        return std::string(out);
    }
    const int bytes = crowded ? 6 : 8;
    for (int i = bytes; i < 16; ++i) v6.s6_addr[i] = 0;
    ::inet_ntop(AF_INET6, &v6, out, sizeof out);
    return std::string(out) + "/" + std::to_string(bytes * 8);
}

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
    return seen != nullptr && seen->size() >= limit_;
}

void RateLimiter::record(std::string_view key, std::int64_t now) {
    events(key, now, true)->push_back(now);
}

bool RateLimiter::allow(std::string_view key, std::int64_t now) {
    if (exhausted(key, now)) return false;
    record(key, now);
    return true;
}

// The key's events still inside the window (nullptr for an unknown key unless `create`).
// A full table makes room rather than refuse a new key: refusing would let a flood of
// addresses lock every new client out.
EventTimes* RateLimiter::events(std::string_view key, std::int64_t now, bool create) {
    auto found = events_.find(std::string(key));
    if (found == events_.end()) {
        if (!create) return nullptr;
        if (events_.size() >= max_keys_) make_room(now);
        found = events_.emplace(std::string(key), EventTimes()).first;
    }
    EventTimes& seen = found->second;
    while (!seen.empty() && seen.front() <= now - window_) seen.pop_front();
    return &seen;
}

// Drops keys whose events have all expired; if that frees too little, also the share of
// keys that matter least: fewest events in the window, then the longest quiet. Forgetting
// a batch keeps a flood's cost per new key constant.
void RateLimiter::make_room(std::int64_t now) {
    std::erase_if(events_, [&](const auto& entry) {
        return entry.second.empty() || entry.second.back() <= now - window_;
    });
    const std::size_t wanted = std::max<std::size_t>(1, max_keys_ / kEvictedShare);
    if (max_keys_ - std::min(max_keys_, events_.size()) >= wanted) return;
    using Entry = decltype(events_)::iterator;
    std::vector<Entry> entries;
    entries.reserve(events_.size());
    for (auto it = events_.begin(); it != events_.end(); ++it) entries.push_back(it);
    const std::size_t evicted = std::min(entries.size(), events_.size() + wanted - max_keys_);
    std::nth_element(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(evicted),
                     entries.end(), [](const Entry& a, const Entry& b) {
                         if (a->second.size() != b->second.size()) {
                             return a->second.size() < b->second.size();
                         }
                         return a->second.back() < b->second.back();
                     });
    for (std::size_t i = 0; i < evicted; ++i) events_.erase(entries[i]);
}

}  // namespace resetd
