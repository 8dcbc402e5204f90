// SPDX-License-Identifier: Apache-2.0
// Strict parsers for the files of the modules users migrate from. Pure functions over
// text (no I/O), so they can be unit-tested and fuzzed. Error messages never contain a
// secret or a scratch code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/otp.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {

inline constexpr std::size_t kMaxGoogleAuthenticatorFile = 16 * 1024;
inline constexpr std::size_t kMaxOathUsersFile = 64 * 1024 * 1024;

// ~/.google_authenticator (google-authenticator-libpam): the base32 secret on the first
// line, `" OPTION ...` lines, then 8-digit scratch codes.
struct GoogleAuthenticatorFile {
    totp::SecretBytes secret;
    int step_size = 30;                           // " STEP_SIZE
    std::optional<int> window_size;               // " WINDOW_SIZE (policy now belongs to root)
    bool rate_limit = false;                      // " RATE_LIMIT
    bool disallow_reuse = false;                  // " DISALLOW_REUSE
    std::optional<std::uint64_t> last_used_step;  // newest step listed after DISALLOW_REUSE
    bool time_skew = false;                       // " TIME_SKEW / RESETTING_TIME_SKEW
    std::vector<totp::SecretString> scratch_codes;
};

// Errc::unsupported for HOTP (counter-based) files and step sizes outside 15-300 s;
// Errc::invalid_argument for anything malformed (the message names the line).
totp::Result<GoogleAuthenticatorFile> parse_google_authenticator(std::string_view text);

// One user line of a pam_oath (liboath) users file:
//   TYPE USER PIN SECRET [COUNTER [LASTOTP [TIME]]]
// TYPE is HOTP/T<seconds>[/<digits>] for TOTP; plain HOTP and HOTP/E are counter-based.
struct OathEntry {
    std::size_t line = 0;
    std::string user;
    std::string skipped;  // why this line is not imported; empty: importable
    totp::OtpParams params;
    totp::SecretBytes secret;
    bool has_pin = false;  // the PIN field was neither "-" nor empty
};

// Every non-blank, non-comment line, in order (skipped ones carry the reason).
std::vector<OathEntry> parse_oath_usersfile(std::string_view text);

}  // namespace totp_enroll
