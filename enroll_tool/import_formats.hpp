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
#include "totp/user_state.hpp"

namespace totp_enroll {

inline constexpr std::size_t kMaxGoogleAuthenticatorFile = 16 * 1024;
inline constexpr std::size_t kMaxOathUsersFile = 64 * 1024 * 1024;

// Where an authenticator came from does not matter once it is read: every parser returns
// these, and one function (import_plan.hpp) decides what the store can hold.

struct ImportedToken {
    std::string user;    // the account as the source names it (PSKC: from --map)
    std::string label;   // a name among the user's authenticators (a serial, "line-3", ...)
    std::string origin;  // where it is in the source, for messages: "line 3", "KeyPackage 2"
    totp::OtpType type = totp::OtpType::totp;
    totp::SecretBytes secret;
    totp::OtpParams params;                       // period: TOTP only
    std::uint64_t counter = 0;                    // HOTP: the next unused counter
    std::optional<std::uint64_t> last_used_step;  // TOTP: the newest step already used
    std::int64_t drift_steps = 0;                 // TOTP: the token's clock offset, in steps
    bool has_pin = false;                         // a PIN pam_totp does not use
    std::string skipped;  // why this entry cannot be imported anywhere; empty: it can
};

// ~/.google_authenticator (google-authenticator-libpam): the base32 secret on the first
// line, `" OPTION ...` lines, then 8-digit scratch codes.
struct GoogleAuthenticatorFile {
    totp::SecretBytes secret;
    int step_size = 30;                           // " STEP_SIZE
    std::optional<std::uint64_t> hotp_counter;    // " HOTP_COUNTER: the next unused counter
    std::optional<int> window_size;               // " WINDOW_SIZE (policy now belongs to root)
    bool rate_limit = false;                      // " RATE_LIMIT
    bool disallow_reuse = false;                  // " DISALLOW_REUSE
    std::optional<std::uint64_t> last_used_step;  // newest step listed after DISALLOW_REUSE
    bool time_skew = false;                       // " TIME_SKEW / RESETTING_TIME_SKEW
    std::vector<totp::SecretString> scratch_codes;
};

// Errc::unsupported for step sizes outside 15-300 s; Errc::invalid_argument for anything
// malformed (the message names the line).
totp::Result<GoogleAuthenticatorFile> parse_google_authenticator(std::string_view text);

// The file's authenticator as a token of `user` (HOTP when it has HOTP_COUNTER).
ImportedToken google_authenticator_token(const GoogleAuthenticatorFile& file,
                                         const std::string& user);

// A pam_oath (liboath) users file, one token per user line:
//   TYPE USER PIN SECRET [COUNTER [LASTOTP [TIME]]]
// TYPE is HOTP[/E][/<digits>] (counter-based) or HOTP/T<seconds>[/<digits>] (TOTP).
// pam_oath rewrites a line after each login, setting COUNTER to the counter of the code
// it accepted, LASTOTP to that code and TIME to when: a HOTP line with LASTOTP continues
// at COUNTER + 1, one without at COUNTER. Every non-blank, non-comment line, in order
// (those that cannot be imported carry the reason).
std::vector<ImportedToken> parse_oath_usersfile(std::string_view text);

}  // namespace totp_enroll
