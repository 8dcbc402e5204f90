// SPDX-License-Identifier: Apache-2.0
// What the store keeps for one enrolled user, and its on-disk text format.
//
// A state file is exactly kStateFileSize bytes: two slots of kSlotSize bytes. Each
// slot holds one complete record as text (key=value lines, see docs/state-format.md),
// ending in a `checksum=` line (SHA-256 of everything before it) and padded with
// newlines. Updates overwrite the slot holding the older record and then fdatasync,
// so a crash at any instant leaves the newer intact record in the other slot.
//
// Version 1 files (one TOTP secret per user, 4096-byte slots) are still read, as a user
// with one TOTP authenticator named "default"; the store writes the next update as a
// whole version 2 file.
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

inline constexpr int kStateFormatVersion = 2;
inline constexpr std::size_t kSlotSize = 8192;
inline constexpr std::size_t kStateFileSize = 2 * kSlotSize;
inline constexpr std::size_t kV1SlotSize = 4096;
inline constexpr std::size_t kV1StateFileSize = 2 * kV1SlotSize;
inline constexpr std::size_t kMaxEmailLength = 254;
inline constexpr std::size_t kMinSecretBytes = 10;  // 80 bits, RFC 4226's floor
inline constexpr std::size_t kMaxSecretBytes = 128;
inline constexpr std::uint32_t kMaxEmailMails = 1000;
// The most failures a record holds. Counting past it would make the state unsavable, and a
// failure that is not saved renews no lockout, so a count stops here.
inline constexpr std::uint32_t kMaxFailures = 1000000;
// The most authenticators a record can hold (the config's max_authenticators is at most
// this), and the longest name.
inline constexpr std::size_t kMaxAuthenticators = 16;
inline constexpr std::size_t kMaxAuthenticatorName = 32;
// A TOTP token's clock may be off by at most this much (resync's search, and the bound of
// the offset logins nudge).
inline constexpr int kMaxClockOffsetSeconds = 600;
// The name of the authenticator a first enrollment (and a version 1 file) gets.
inline constexpr std::string_view kDefaultAuthenticatorName = "default";

enum class OtpType { totp, hotp };

std::string_view type_name(OtpType type);                  // "totp", "hotp"
std::optional<OtpType> parse_type(std::string_view name);  // exactly those spellings

// One phone app or hardware token: its own secret, parameters and replay state.
struct Authenticator {
    std::string name;  // 1..kMaxAuthenticatorName of A-Z a-z 0-9 . _ -, not starting with '-'
    OtpType type = OtpType::totp;
    OtpParams params;  // HOTP uses algorithm and digits; period is kept but unused
    SecretBytes secret;
    // TOTP: the last accepted absolute time step (the offset already applied), so replay
    // protection is exact whatever the offset; none before the first use.
    std::optional<std::uint64_t> last_step;
    // HOTP: the next unused counter; codes for lower counters are refused.
    std::uint64_t counter = 0;
    // TOTP: how many steps the token's clock is ahead (negative: behind), set by resync and
    // nudged by logins; |offset| * period <= kMaxClockOffsetSeconds. Always 0 for HOTP.
    std::int32_t offset = 0;
    std::int64_t last_used = 0;  // Unix time of the last accepted code; 0 = never

    Authenticator clone() const;
};

struct UserState {
    // 1..kMaxAuthenticators, names unique; a login accepts a code from any of them.
    std::vector<Authenticator> authenticators;
    std::uint32_t failures = 0;     // consecutive failed attempts (for the user, not per token)
    std::int64_t locked_until = 0;  // Unix time; 0 = not locked
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

// Checks one authenticator on its own: name, parameters, secret length, counter and offset
// ranges, and that the replay state fits its type.
Status validate(const Authenticator& token);

// Adds `authenticator` to `state`, the one way every command and importer adds one:
//   Authenticator token;
//   token.name = "yubikey";  token.type = OtpType::hotp;  token.secret = ...;
//   token.params = {Algorithm::sha1, 6, 30};  token.counter = 42;  // next unused counter
//   token.offset = 0;  // TOTP only: clock offset in steps
//   add_authenticator(state, std::move(token), settings.max_authenticators);
// Errc::invalid_argument if it does not validate, its name is taken, or `state` already
// holds `max_count` (the config's max_authenticators) authenticators; `state` is unchanged
// then. Replay state starts as given (last_step none for a new TOTP token).
Status add_authenticator(UserState& state, Authenticator authenticator, std::size_t max_count);

// The authenticator named `name`, or nullptr.
Authenticator* find_authenticator(UserState& state, std::string_view name);
const Authenticator* find_authenticator(const UserState& state, std::string_view name);

// Removes the authenticator named `name`. Errc::not_found if there is none, Errc::
// invalid_argument if it is the last one (a record without one is removed as a whole).
Status remove_authenticator(UserState& state, std::string_view name);

// Makes `state` (a new enrollment: its authenticator named "default", or an imported one)
// replace the record `previous`: each authenticator of `previous` whose name `state` does
// not use is kept, after `state`'s own. Every authenticator widens what one guessed code
// covers, so this is Errc::invalid_argument, `state` unchanged, when it would leave more
// than `max_count` (the config's max_authenticators) and more than `previous` had: only
// replacing stays possible over a limit lowered since.
Status replace_authenticators(UserState& state, const UserState& previous, std::size_t max_count);

// The value of one `authenticator=` line (docs/state-format.md), for a store that keeps
// the authenticators apart from the rest of the record (the PostgreSQL store, sealed).
// The text holds the secret. parse_authenticator is as strict as the record's parser:
// Errc::corrupt, with a message that never echoes the text.
SecretString format_authenticator(const Authenticator& token);
Result<Authenticator> parse_authenticator(std::string_view text);

// Validates every field (every authenticator, email characters, counts).
Status validate(const UserState& state);

// One slot's bytes: the record text, padded to exactly kSlotSize with '\n'.
// Errc::invalid_argument if the state does not validate or does not fit.
Result<SecretString> encode_slot(const UserState& state, std::uint64_t sequence);

struct DecodedSlot {
    UserState state;
    std::uint64_t sequence = 0;
};

// Strict parse of one version 2 slot: checksum first, then every line; unknown keys, duplicate
// keys, missing keys, bad values and oversized fields are Errc::corrupt.
Result<DecodedSlot> decode_slot(std::string_view slot);

struct DecodedFile {
    UserState state;
    std::uint64_t sequence = 0;         // of the record returned
    std::size_t next_slot = 0;          // slot to overwrite with the next update (the other one)
    int version = kStateFormatVersion;  // 1: the next update must rewrite the whole file
};

// Picks the valid slot with the higher sequence: of a kStateFileSize file in version 2, of
// a kV1StateFileSize file in version 1. Errc::corrupt for any other size or when neither
// slot is valid (the message says why).
Result<DecodedFile> decode_file(std::string_view file);

}  // namespace totp
