// Sliding-window counters: at most `limit` events per key in any `window` seconds.
// Not thread-safe: each limiter belongs to one thread of the monitor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>

namespace resetd {

class RateLimiter {
  public:
    RateLimiter(int limit, int window_seconds, std::size_t max_keys = 65536);

    // True if `key` has used up its events in the window ending at `now`.
    bool exhausted(std::string_view key, std::int64_t now);
    // Counts an event.
    void record(std::string_view key, std::int64_t now);
    // Counts an event if the key has room: exhausted() and record() in one.
    bool allow(std::string_view key, std::int64_t now);

  private:
    std::deque<std::int64_t>* events(std::string_view key, std::int64_t now, bool create);
    void forget_idle_keys(std::int64_t now);

    std::size_t limit_;
    std::int64_t window_;
    std::size_t max_keys_;
    std::unordered_map<std::string, std::deque<std::int64_t>> events_;
};

}  // namespace resetd
