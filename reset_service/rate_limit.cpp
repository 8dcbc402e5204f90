// SPDX-License-Identifier: Apache-2.0
#include "rate_limit.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <utility>

#include "totp/secret.hpp"

namespace resetd {

namespace {

constexpr std::size_t kMaxIpLength = 64;
constexpr std::size_t kEvictedShare = 8;  // a full table forgets this fraction (1/8) at once
constexpr std::int64_t kStampMiddle = std::int64_t{1} << 31;
constexpr std::size_t kFirstIndexSize = 16;

std::string bytes_of(const unsigned char* bytes, std::size_t size) {
    return std::string(reinterpret_cast<const char*>(bytes), size);
}

// splitmix64's finalizer: every bit of the result depends on every bit of `x`.
std::uint64_t mixed(std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

std::optional<std::string> address_key(std::string_view ip, bool crowded) {
    if (ip.size() > kMaxIpLength) return std::nullopt;
    const std::string text(ip);
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) == 1) {
        return bytes_of(reinterpret_cast<const unsigned char*>(&v4.s_addr), 4);
    }
    in6_addr v6{};
    if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return bytes_of(v6.s6_addr + 12, 4);
    // The lengths (4, 6, 8 bytes) keep IPv4 addresses and the two prefixes apart.
    return bytes_of(v6.s6_addr, crowded ? 6 : 8);
}

static_assert(sizeof(KeyEvents) == 64, "a full table's memory is counted in these");

KeyEvents::KeyEvents(std::string_view key) : key_size_(static_cast<std::uint32_t>(key.size())) {
    char* bytes = key_inline_;
    if (key_on_heap()) bytes = key_heap_ = new char[key.size()];
    std::copy(key.begin(), key.end(), bytes);
}

KeyEvents::KeyEvents(KeyEvents&& other) noexcept {
    take(other);
}

KeyEvents& KeyEvents::operator=(KeyEvents&& other) noexcept {
    if (this != &other) {
        release();
        take(other);
    }
    return *this;
}

KeyEvents::~KeyEvents() {
    release();
}

void KeyEvents::release() {
    if (key_on_heap()) delete[] key_heap_;
    if (times_on_heap()) delete[] times_heap_;
}

// Moves `other`'s key and times here (this one owns no heap block) and leaves it empty.
void KeyEvents::take(KeyEvents& other) {
    capacity_ = std::exchange(other.capacity_, kInlineTimes);
    head_ = std::exchange(other.head_, 0);
    count_ = std::exchange(other.count_, 0);
    key_size_ = std::exchange(other.key_size_, 0);
    if (times_on_heap()) {
        times_heap_ = other.times_heap_;
    } else {
        std::copy_n(other.times_inline_, kInlineTimes, times_inline_);
    }
    if (key_on_heap()) {
        key_heap_ = other.key_heap_;
    } else {
        std::copy_n(other.key_inline_, kInlineKey, key_inline_);
    }
}

void KeyEvents::pop_front() {
    head_ = slot(1);
    --count_;
}

void KeyEvents::push_back(std::uint32_t time) {
    if (count_ == capacity_) {
        const std::uint32_t larger = std::bit_ceil(capacity_ + 1);
        auto* moved = new std::uint32_t[larger];
        for (std::uint32_t i = 0; i < count_; ++i) moved[i] = times()[slot(i)];
        if (times_on_heap()) delete[] times_heap_;
        times_heap_ = moved;
        capacity_ = larger;
        head_ = 0;
    }
    times()[slot(count_)] = time;
    ++count_;
}

RateLimiter::RateLimiter(int limit, int window_seconds, std::size_t max_keys)
    : limit_(static_cast<std::size_t>(limit)), window_(window_seconds), max_keys_(max_keys) {
    // Reserved, not touched: the pages become resident as keys arrive, and the table never
    // moves (moving would hold the old and the new copy at once).
    entries_.reserve(max_keys_);
    // Without random bytes the index still works; only its slots become predictable.
    totp::random_bytes(reinterpret_cast<std::uint8_t*>(&seed_), sizeof seed_);
}

bool RateLimiter::exhausted(std::string_view key, std::int64_t now) {
    const KeyEvents* seen = events(key, now, false);
    return seen != nullptr && seen->size() >= limit_;
}

void RateLimiter::record(std::string_view key, std::int64_t now) {
    events(key, now, true)->push_back(stamp(now));
}

bool RateLimiter::allow(std::string_view key, std::int64_t now) {
    if (exhausted(key, now)) return false;
    record(key, now);
    return true;
}

// `now` in 32 bits: seconds from a base taken at the first event, 2^31 seconds in the past.
std::uint32_t RateLimiter::stamp(std::int64_t now) {
    if (!base_) base_ = now;
    return static_cast<std::uint32_t>(
        std::clamp<std::int64_t>(now - *base_ + kStampMiddle, 0, UINT32_MAX));
}

void RateLimiter::forget_expired(KeyEvents& events, std::int64_t now) const {
    if (!base_) return;
    const std::int64_t last_out = now - window_ - *base_ + kStampMiddle;
    while (!events.empty() && events.front() <= last_out) events.pop_front();
}

// The key's events still inside the window (nullptr for an unknown key unless `create`).
// A full table makes room rather than refuse a new key: refusing would let a flood of
// addresses lock every new client out.
KeyEvents* RateLimiter::events(std::string_view key, std::int64_t now, bool create) {
    std::size_t slot = find(key);
    if (index_.empty() || index_[slot] == kNoEntry) {
        if (!create) return nullptr;
        if (entries_.size() >= max_keys_) make_room(now);
        entries_.emplace_back(key);
        if (2 * entries_.size() > index_.size()) {
            index_all();
            slot = find(key);
        } else {
            slot = find(key);
            index_[slot] = static_cast<std::uint32_t>(entries_.size() - 1);
        }
    }
    KeyEvents& seen = entries_[index_[slot]];
    forget_expired(seen, now);
    return &seen;
}

// Drops keys whose events have all expired; if that frees too little, also the share of
// keys that matter least: fewest events in the window, then the longest quiet. Forgetting
// a batch keeps a flood's cost per new key constant. An abuser that used up its limit is
// the last to go: a flood must bring 7/8 of the table to the limit too before it is evicted,
// which costs more requests than its count would save.
void RateLimiter::make_room(std::int64_t now) {
    for (KeyEvents& entry : entries_) forget_expired(entry, now);
    std::erase_if(entries_, [](const KeyEvents& entry) { return entry.empty(); });
    const std::size_t wanted = std::max<std::size_t>(1, max_keys_ / kEvictedShare);
    if (max_keys_ - std::min(max_keys_, entries_.size()) < wanted) {
        const std::size_t evicted = std::min(entries_.size(), entries_.size() + wanted - max_keys_);
        const auto first_kept = entries_.begin() + static_cast<std::ptrdiff_t>(evicted);
        std::nth_element(entries_.begin(), first_kept, entries_.end(),
                         [](const KeyEvents& a, const KeyEvents& b) {
                             if (a.size() != b.size()) return a.size() < b.size();
                             return a.back() < b.back();
                         });
        entries_.erase(entries_.begin(), first_kept);
    }
    index_all();
}

std::size_t RateLimiter::home(std::string_view key) const {
    return mixed(std::hash<std::string_view>{}(key) ^ seed_) & (index_.size() - 1);
}

// The slot holding `key`, or the free slot where it belongs (index_ must not be full).
std::size_t RateLimiter::find(std::string_view key) const {
    if (index_.empty()) return 0;
    std::size_t slot = home(key);
    while (index_[slot] != kNoEntry && entries_[index_[slot]].key() != key) {
        slot = (slot + 1) & (index_.size() - 1);
    }
    return slot;
}

// Rebuilds the index for entries_, twice as many slots as entries at least.
void RateLimiter::index_all() {
    const std::size_t size = std::max(kFirstIndexSize, std::bit_ceil(2 * entries_.size()));
    index_.assign(size, kNoEntry);
    if (index_.capacity() > size) index_.shrink_to_fit();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        index_[find(entries_[i].key())] = static_cast<std::uint32_t>(i);
    }
}

}  // namespace resetd
