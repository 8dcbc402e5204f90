// SPDX-License-Identifier: Apache-2.0
// What the store keeps for one enrolled user, and its on-disk text format.
//
// A state file is exactly kStateFileSize bytes: two slots of kSlotSize bytes. Each
// slot holds one complete record as text (key=value lines, see docs/state-format.md),
// ending in a `checksum=` line (SHA-256 of everything before it) and padded with
// newlines. Updates overwrite the slot holding the older record and then fdatasync,
// so a crash at any instant leaves the newer intact record in the other slot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/otp.hpp"
#include "totp/recovery.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp {

inline constexpr int kStateFormatVersion = 1;
inline constexpr std::size_t kSlotSize = 4096;
inline constexpr std::size_t kStateFileSize = 2 * kSlotSize;
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMinSecretBytes = 10;  // 80 bits, RFC 4226's floor
inline constexpr std::size_t kMaxSecretBytes = 128;
inline constexpr std::uint32_t kMaxEmailMails = 1000;

struct UserState {
    OtpParams params;
    SecretBytes secret;
    std::optional<std::uint64_t> last_step;  // last accepted TOTP step; none before first login
    std::uint32_t failures = 0;              // consecutive failed attempts
    std::int64_t locked_until = 0;           // Unix time; 0 = not locked
    std::vector<RecoveryHash> recovery;
    std::int64_t created = 0;  // Unix time of enrollment
    std::string email;         // empty = none recorded
    bool email_verified = false;
    // Verification mails `totp-enroll email` sent since email_mails_since (Unix time), so
    // that a user cannot make the host mail any address without limit. 0 = none counted.
    std::uint32_t email_mails = 0;
    std::int64_t email_mails_since = 0;

    UserState clone() const;
};

// Validates every field (params, secret length, email characters, counts).
Status validate(const UserState& state);

// One slot's bytes: the record text, padded to exactly kSlotSize with '\n'.
// Errc::invalid_argument if the state does not validate or does not fit.
Result<SecretString> encode_slot(const UserState& state, std::uint64_t sequence);

struct DecodedSlot {
    UserState state;
    std::uint64_t sequence = 0;
};

// Strict parse of one slot: checksum first, then every line; unknown keys, duplicate
// keys, missing keys, bad values and oversized fields are Errc::corrupt.
Result<DecodedSlot> decode_slot(std::string_view slot);

struct DecodedFile {
    UserState state;
    std::uint64_t sequence = 0;  // of the record returned
    std::size_t next_slot = 0;   // slot to overwrite with the next update (the other one)
};

// Picks the valid slot with the higher sequence. Errc::corrupt if the size is not
// kStateFileSize or neither slot is valid (the message says why).
Result<DecodedFile> decode_file(std::string_view file);

}  // namespace totp
