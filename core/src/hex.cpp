// SPDX-License-Identifier: Apache-2.0
#include "totp/hex.hpp"

namespace totp {
namespace {

constexpr char kDigits[] = "0123456789abcdef";

// The value of one hex digit, or -1.
int digit_value(char c, HexLetters letters) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (letters == HexLetters::either_case && c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

template <class Text>
void append_hex(Text& out, std::span<const std::uint8_t> bytes) {
    for (const std::uint8_t byte : bytes) {
        const char pair[2] = {kDigits[byte >> 4], kDigits[byte & 0x0f]};
        out.append(std::string_view(pair, 2));
    }
}

}  // namespace

std::string hex_encode(std::span<const std::uint8_t> bytes) {
    std::string text;
    text.reserve(2 * bytes.size());
    append_hex(text, bytes);
    return text;
}

SecretString hex_encode_secret(std::span<const std::uint8_t> bytes) {
    SecretString text;
    text.reserve(2 * bytes.size());
    append_hex(text, bytes);
    return text;
}

bool hex_decode(std::string_view text, std::span<std::uint8_t> out, HexLetters letters) {
    if (text.size() != 2 * out.size()) return false;
    for (std::size_t i = 0; i < out.size(); ++i) {
        const int high = digit_value(text[2 * i], letters);
        const int low = digit_value(text[2 * i + 1], letters);
        if (high < 0 || low < 0) {
            wipe(out.data(), out.size());
            return false;
        }
        out[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return true;
}

std::optional<SecretBytes> hex_decode_secret(std::string_view text, HexLetters letters) {
    if (text.size() % 2 != 0) return std::nullopt;
    SecretBytes bytes(text.size() / 2);
    if (!hex_decode(text, {bytes.data(), bytes.size()}, letters)) return std::nullopt;
    return bytes;
}

}  // namespace totp
