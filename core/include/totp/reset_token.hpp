// SPDX-License-Identifier: Apache-2.0
// Password-reset tokens (totp-resetd): "selector.verifier" in lowercase hex.
//
// The selector (96 random bits) names the stored entry, so a lookup needs no search and no
// comparison of secrets; the verifier (256 random bits) is the secret half, stored only as
// its SHA-256 and compared in constant time. The store cannot be turned into a working link.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "totp/result.hpp"
#include "totp/secret.hpp"
#include "totp/store.hpp"

namespace totp {

inline constexpr std::size_t kResetSelectorBytes = 12;
inline constexpr std::size_t kResetVerifierBytes = 32;
inline constexpr std::size_t kResetSelectorHexLength = 2 * kResetSelectorBytes;
inline constexpr std::size_t kResetTokenLength =
    kResetSelectorHexLength + 1 + 2 * kResetVerifierBytes;

struct IssuedResetToken {
    SecretString text;  // goes into the link, and nowhere else
    std::string selector;
    ResetTokenEntry entry;  // what the store keeps
};

// A fresh token from the CSPRNG; Errc::io if the generator fails.
Result<IssuedResetToken> issue_reset_token(std::string_view user, std::int64_t expires);

struct ResetTokenParts {
    std::string selector;
    SecretBytes verifier;
};

// Strict: exactly kResetTokenLength characters, lowercase hex around one '.'.
std::optional<ResetTokenParts> parse_reset_token(std::string_view text);

// The verifier hashes to what the entry holds (constant time).
bool reset_token_matches(const ResetTokenEntry& entry, const ResetTokenParts& token);

// kResetSelectorHexLength lowercase hex digits (the only names the store accepts).
bool is_reset_selector(std::string_view selector);

// How the file store keeps an entry: four text lines and a checksum line (SHA-256 of what
// precedes it, against torn writes), at most kMaxResetEntryLength bytes:
//   pam_totp-reset-token v1
//   user=<name>
//   verifier_sha256=<64 hex>
//   expires=<unix seconds>
//   checksum=<64 hex>
inline constexpr std::size_t kMaxResetEntryLength = 512;
Result<std::string> encode_reset_entry(const ResetTokenEntry& entry);
// Strict: the exact layout above, a valid user name, the checksum; else Errc::corrupt.
Result<ResetTokenEntry> decode_reset_entry(std::string_view text);

}  // namespace totp
