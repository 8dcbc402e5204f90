// SPDX-License-Identifier: Apache-2.0
// Hexadecimal, two digits a byte, no prefix or separators: how the state's checksum, reset
// tokens, the PostgreSQL store's bytea values and keys typed by an administrator are spelled.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "totp/secret.hpp"

namespace totp {

// Lowercase, the one spelling we write.
std::string hex_encode(std::span<const std::uint8_t> bytes);
// The same for a secret's bytes: nothing but the returned buffer ever holds the digits.
SecretString hex_encode_secret(std::span<const std::uint8_t> bytes);

// What we wrote ourselves is read back lowercase only, so that one value has one spelling;
// what a person or another program wrote may use either case.
enum class HexLetters { lowercase, either_case };

// Reads exactly out.size() bytes: true only if `text` is 2 * out.size() hex digits. On false
// `out` is wiped.
bool hex_decode(std::string_view text, std::span<std::uint8_t> out, HexLetters letters);
// An even number of hex digits as bytes that wipe themselves; nullopt for anything else.
std::optional<SecretBytes> hex_decode_secret(std::string_view text, HexLetters letters);

}  // namespace totp
