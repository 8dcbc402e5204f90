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

// One key and its counted event times, oldest first, in 64 bytes. The key's bytes are kept
// inside up to 8 (every address key), longer ones (account names) in a heap block. The times
// are seconds from the limiter's base (32 bits cover 68 years either side of it), in a ring
// kept inside up to kInlineTimes, which covers the shipped limits (10 requests, 10 failures,
// 3 mails per hour); larger limits (the benchmark's 100 000) move the ring to the heap, where
// it grows by doubling.
class KeyEvents {
  public:
    static constexpr std::uint32_t kInlineTimes = 10;
    static constexpr std::uint32_t kInlineKey = 8;

    explicit KeyEvents(std::string_view key);
    KeyEvents(KeyEvents&& other) noexcept;
    KeyEvents& operator=(KeyEvents&& other) noexcept;
    KeyEvents(const KeyEvents&) = delete;
    KeyEvents& operator=(const KeyEvents&) = delete;
    ~KeyEvents();

    std::string_view key() const { return {key_on_heap() ? key_heap_ : key_inline_, key_size_}; }
    bool empty() const { return count_ == 0; }
    std::size_t size() const { return count_; }
    std::uint32_t front() const { return times()[head_]; }
    std::uint32_t back() const { return times()[slot(count_ - 1)]; }
    void pop_front();
    void push_back(std::uint32_t time);

  private:
    void take(KeyEvents& other);
    void release();
    bool key_on_heap() const { return key_size_ > kInlineKey; }
    bool times_on_heap() const { return capacity_ > kInlineTimes; }
    const std::uint32_t* times() const { return times_on_heap() ? times_heap_ : times_inline_; }
    std::uint32_t* times() { return times_on_heap() ? times_heap_ : times_inline_; }
    std::uint32_t slot(std::uint32_t i) const { return (head_ + i) % capacity_; }

    union {
        std::uint32_t times_inline_[kInlineTimes] = {};
        std::uint32_t* times_heap_;
    };
    std::uint32_t capacity_ = kInlineTimes;
    std::uint32_t head_ = 0;
    std::uint32_t count_ = 0;
    std::uint32_t key_size_ = 0;
    union {
        char key_inline_[kInlineKey] = {};
        char* key_heap_;
    };
};

// The rate-limit key of a client address, compact and opaque (its bytes, not text): IPv4 (an
// IPv4-mapped IPv6 address too) as is, IPv6 by its /64 (one subscriber's network), or by its
// /48 when `crowded`; nullopt if `ip` is not an address. At most 8 bytes, so that std::string
// and the limiter's entries (KeyEvents) hold it without a heap block.
std::optional<std::string> address_key(std::string_view ip, bool crowded = false);

class RateLimiter {
  public:
    // 16 384 keys: far more client addresses than ask for resets within a window, and small
    // enough that the monitor's two address limiters, both full, take about 2.4 MB (72 bytes
    // a key: the entry and its share of the index). A full table evicts the keys that matter
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
    static constexpr std::uint32_t kNoEntry = UINT32_MAX;

    KeyEvents* events(std::string_view key, std::int64_t now, bool create);
    std::uint32_t stamp(std::int64_t now);
    void forget_expired(KeyEvents& events, std::int64_t now) const;
    void make_room(std::int64_t now);
    std::size_t home(std::string_view key) const;
    std::size_t find(std::string_view key) const;
    void index_all();

    std::size_t limit_;
    std::int64_t window_;
    std::size_t max_keys_;
    std::optional<std::int64_t> base_;  // the time that stamp 2^31 stands for
    std::uint64_t seed_ = 0;            // keeps chosen addresses from sharing index slots
    std::vector<KeyEvents> entries_;    // in no order
    // Open addressing, linear probing: positions in entries_, at most half the slots used.
    std::vector<std::uint32_t> index_;
};

}  // namespace resetd
