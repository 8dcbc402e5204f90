// SPDX-License-Identifier: Apache-2.0
// One-time recovery codes: shown once, stored only as salted SHA-256 hashes.
//
// Generated codes are 12 characters from a 32-symbol alphabet (60 bits), printed as
// XXXX-XXXX-XXXX. With that much entropy a salted SHA-256 cannot be searched offline,
// and checking stays cheap on the login path.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp {

struct RecoveryHash {
    std::array<std::uint8_t, 16> salt{};
    std::array<std::uint8_t, 32> digest{};  // SHA-256(salt || normalized code)
    bool operator==(const RecoveryHash&) const = default;
};

inline constexpr std::size_t kMaxRecoveryCodes = 20;

// Canonical form of a typed code: spaces and hyphens dropped, letters upper-cased,
// O read as 0 and I/L as 1. nullopt if the result is not 6-32 characters of [0-9A-Z]
// (then it cannot be a recovery code). Digit-only codes are allowed so that imported
// google-authenticator scratch codes keep working.
std::optional<SecretString> normalize_recovery_code(std::string_view typed);

// `count` new codes (1..kMaxRecoveryCodes) formatted XXXX-XXXX-XXXX; error if the CSPRNG fails.
Result<std::vector<SecretString>> generate_recovery_codes(int count);

// Hash of an already normalized code with a fresh random salt.
Result<RecoveryHash> hash_recovery_code(std::string_view normalized);

// Index of the stored hash that matches `normalized`. Every stored hash is computed and
// compared (constant time), whichever matches.
std::optional<std::size_t> find_recovery_code(const std::vector<RecoveryHash>& stored,
                                              std::string_view normalized);

// "hex(salt):hex(digest)" and back (for the state file).
std::string format_recovery_hash(const RecoveryHash& hash);
// Only the canonical form format_recovery_hash writes (lowercase hex) is accepted.
std::optional<RecoveryHash> parse_recovery_hash(std::string_view text);

}  // namespace totp
