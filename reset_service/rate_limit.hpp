// SPDX-License-Identifier: Apache-2.0
// Sliding-window counters: at most `limit` events per key in any `window` seconds.
// Not thread-safe: each limiter belongs to one thread of the monitor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace resetd {

// One key's counted event times, oldest first: a ring that grows by doubling from 4 entries.
// An address that sent one request costs 32 bytes here (a std::deque allocated 576), which
// matters when a flood from many addresses fills the table.
class EventTimes {
  public:
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    std::int64_t front() const { return times_[head_]; }
    std::int64_t back() const { return times_[slot(count_ - 1)]; }
    void pop_front();
    void push_back(std::int64_t time);

  private:
    std::size_t slot(std::size_t i) const { return (head_ + i) % times_.size(); }

    std::vector<std::int64_t> times_;
    std::size_t head_ = 0;
    std::size_t count_ = 0;
};

// The rate-limit key of a client address: IPv4 (an IPv4-mapped IPv6 address too) as is, IPv6
// by its /64 (one subscriber's network), or by its /48 when `crowded`; nullopt if `ip` is not
// an address.
std::optional<std::string> address_key(std::string_view ip, bool crowded = false);

class RateLimiter {
  public:
    RateLimiter(int limit, int window_seconds, std::size_t max_keys = 65536);

    // True if `key` has used up its events in the window ending at `now`.
    bool exhausted(std::string_view key, std::int64_t now);
    // Counts an event.
    void record(std::string_view key, std::int64_t now);
    // Counts an event if the key has room: exhausted() and record() in one.
    bool allow(std::string_view key, std::int64_t now);

    std::size_t size() const { return events_.size(); }
    // At least half full: time to count IPv6 by coarser prefixes (see address_key).
    bool crowded() const { return events_.size() >= max_keys_ / 2; }

  private:
    EventTimes* events(std::string_view key, std::int64_t now, bool create);
    void make_room(std::int64_t now);

    std::size_t limit_;
    std::int64_t window_;
    std::size_t max_keys_;
    std::unordered_map<std::string, EventTimes> events_;
};

}  // namespace resetd
