// SPDX-License-Identifier: Apache-2.0
#include "totp/base32.hpp"

#include <string>

namespace totp {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int symbol_value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a';
    if (c >= '2' && c <= '7') return c - '2' + 26;
    return -1;
}

}  // namespace

SecretString base32_encode(std::span<const std::uint8_t> bytes) {
    SecretString out;
    std::uint32_t buffer = 0;
    int bits = 0;
    char symbol[2] = {0, 0};
    for (std::uint8_t byte : bytes) {
        buffer = (buffer << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            symbol[0] = kAlphabet[(buffer >> (bits - 5)) & 0x1f];
            out.append({symbol, 1});
            bits -= 5;
        }
    }
    if (bits > 0) {
        symbol[0] = kAlphabet[(buffer << (5 - bits)) & 0x1f];
        out.append({symbol, 1});
    }
    // Secret bits: wiped with OPENSSL_cleanse, since a plain `= 0` is a dead store the
    // compiler removes.
    wipe(&buffer, sizeof buffer);
    wipe(symbol, sizeof symbol);
    return out;
}

Result<SecretBytes> base32_decode(std::string_view text) {
    SecretBytes out;
    std::uint32_t buffer = 0;
    int bits = 0;
    std::size_t symbols = 0;
    std::size_t padding = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == ' ' || c == '-') continue;
        if (c == '=') {
            ++padding;
            continue;
        }
        if (padding > 0) {
            return make_error(Errc::invalid_argument,
                              "base32: data after padding at position " + std::to_string(i + 1));
        }
        const int value = symbol_value(c);
        if (value < 0) {
            return make_error(Errc::invalid_argument,
                              "base32: invalid character at position " + std::to_string(i + 1) +
                                  " (allowed: A-Z, 2-7, spaces, hyphens, '=' padding)");
        }
        ++symbols;
        buffer = (buffer << 5) | static_cast<std::uint32_t>(value);
        bits += 5;
        if (bits >= 8) {
            out.push_back(static_cast<std::uint8_t>((buffer >> (bits - 8)) & 0xff));
            bits -= 8;
        }
    }
    wipe(&buffer, sizeof buffer);
    // Only 2, 4, 5 or 7 trailing symbols can end a block; others mean a truncated value.
    const std::size_t tail = symbols % 8;
    if (tail == 1 || tail == 3 || tail == 6) {
        return make_error(Errc::invalid_argument, "base32: truncated input (" +
                                                      std::to_string(symbols) +
                                                      " symbols is not a whole number of bytes)");
    }
    if (padding > 0 && (symbols + padding) % 8 != 0) {
        return make_error(Errc::invalid_argument, "base32: wrong amount of '=' padding");
    }
    if (symbols == 0) return make_error(Errc::invalid_argument, "base32: empty input");
    return out;
}

}  // namespace totp
