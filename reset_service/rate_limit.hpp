// SPDX-License-Identifier: Apache-2.0
// Sliding-window counters: at most `limit` events per key in any `window` seconds.
// Not thread-safe: each limiter belongs to one thread of the monitor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace resetd {

// One key's counted event times, oldest first, in seconds from the limiter's base (32 bits
// cover 68 years either side of it). A ring inside the entry holds up to kInline times, which
// covers the shipped limits (10 requests, 10 failures, 3 mails per hour) without a heap
// block; larger limits (the benchmark's 100 000) move the ring to the heap, where it grows by
// doubling.
class EventTimes {
  public:
    static constexpr std::uint32_t kInline = 10;

    EventTimes() = default;
    EventTimes(EventTimes&& other) noexcept;
    EventTimes& operator=(EventTimes&& other) noexcept;
    EventTimes(const EventTimes&) = delete;
    EventTimes& operator=(const EventTimes&) = delete;
    ~EventTimes();

    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    std::uint32_t front() const { return data()[head_]; }
    std::uint32_t back() const { return data()[slot(count_ - 1)]; }
    void pop_front();
    void push_back(std::uint32_t time);

  private:
    void take(EventTimes& other);
    bool on_heap() const { return capacity_ > kInline; }
    const std::uint32_t* data() const { return on_heap() ? heap_ : inline_; }
    std::uint32_t* data() { return on_heap() ? heap_ : inline_; }
    std::uint32_t slot(std::uint32_t i) const { return (head_ + i) % capacity_; }

    union {
        std::uint32_t inline_[kInline];
        std::uint32_t* heap_;
    };
    std::uint32_t capacity_ = kInline;
    std::uint32_t head_ = 0;
    std::uint32_t count_ = 0;
};

// The rate-limit key of a client address, compact and opaque (its bytes, not text): IPv4 (an
// IPv4-mapped IPv6 address too) as is, IPv6 by its /64 (one subscriber's network), or by its
// /48 when `crowded`; nullopt if `ip` is not an address. At most 8 bytes, so a std::string
// holds it without a heap block.
std::optional<std::string> address_key(std::string_view ip, bool crowded = false);

class RateLimiter {
  public:
    // 16 384 keys: far more client addresses than ask for resets within a window, and small
    // enough that the monitor's two address limiters, both full, take about 3 MB (96 bytes a
    // key: the entry and its share of the index). A full table evicts the keys that matter
    // least (make_room), so a flood of new addresses does not free an abuser's count early.
    RateLimiter(int limit, int window_seconds, std::size_t max_keys = 16384);

    // True if `key` has used up its events in the window ending at `now`.
    bool exhausted(std::string_view key, std::int64_t now);
    // Counts an event.
    void record(std::string_view key, std::int64_t now);
    // Counts an event if the key has room: exhausted() and record() in one.
    bool allow(std::string_view key, std::int64_t now);

    std::size_t size() const { return entries_.size(); }
    // At least half full: time to count IPv6 by coarser prefixes (see address_key).
    bool crowded() const { return entries_.size() >= max_keys_ / 2; }

  private:
    struct Entry {
        std::string key;
        EventTimes times;
    };
    static constexpr std::uint32_t kNoEntry = UINT32_MAX;

    EventTimes* events(std::string_view key, std::int64_t now, bool create);
    std::uint32_t stamp(std::int64_t now);
    void forget_expired(EventTimes& times, std::int64_t now) const;
    void make_room(std::int64_t now);
    std::size_t home(std::string_view key) const;
    std::size_t find(std::string_view key) const;
    void index_all();

    std::size_t limit_;
    std::int64_t window_;
    std::size_t max_keys_;
    std::optional<std::int64_t> base_;  // the time that stamp 2^31 stands for
    std::uint64_t seed_ = 0;            // keeps chosen addresses from sharing index slots
    std::vector<Entry> entries_;        // in no order
    // Open addressing, linear probing: positions in entries_, at most half the slots used.
    std::vector<std::uint32_t> index_;
};

}  // namespace resetd
