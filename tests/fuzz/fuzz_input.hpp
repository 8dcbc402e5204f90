// SPDX-License-Identifier: Apache-2.0
// Splits one fuzz input into the typed pieces a target needs. Reading past the end
// yields zeros and empty strings, so every input is a complete test case.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace fuzz {

class Input {
  public:
    Input(const std::uint8_t* data, std::size_t size)
        : rest_(reinterpret_cast<const char*>(data), size) {}

    bool empty() const { return rest_.empty(); }

    std::uint8_t byte() {
        if (rest_.empty()) return 0;
        const auto value = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return value;
    }

    bool flag() { return (byte() & 1) != 0; }

    // A value in [min, max] (max - min below 2^32).
    std::int64_t number(std::int64_t min, std::int64_t max) {
        const auto range = static_cast<std::uint64_t>(max - min) + 1;
        std::uint64_t raw = 0;
        for (std::uint64_t seen = 1; seen < range && seen != 0; seen <<= 8) raw = raw << 8 | byte();
        return min + static_cast<std::int64_t>(raw % range);
    }

    std::uint64_t u64() {
        std::uint64_t value = 0;
        for (int i = 0; i < 8; ++i) value = value << 8 | byte();
        return value;
    }

    // A length byte (at most max_length) then that many bytes.
    std::string text(std::size_t max_length = 255) {
        const std::size_t wanted = byte() % (max_length + 1);
        return take(wanted);
    }

    // A two-byte length (at most max_length) then that many bytes.
    std::string long_text(std::size_t max_length) {
        const std::size_t high = byte();
        const std::size_t wanted = (high << 8 | byte()) % (max_length + 1);
        return take(wanted);
    }

    std::string rest() { return take(rest_.size()); }

  private:
    std::string take(std::size_t wanted) {
        const std::size_t size = wanted < rest_.size() ? wanted : rest_.size();
        std::string out(rest_.substr(0, size));
        rest_.remove_prefix(size);
        return out;
    }

    std::string_view rest_;
};

// Stops the fuzzer with a message that says which property broke.
[[noreturn]] void violated(const char* property, const std::string& detail = "");

}  // namespace fuzz
