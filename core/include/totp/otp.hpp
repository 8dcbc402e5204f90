// SPDX-License-Identifier: Apache-2.0
// HOTP (RFC 4226) and TOTP (RFC 6238) over OpenSSL HMAC.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp {

enum class Algorithm { sha1, sha256, sha512 };

inline constexpr int kMinDigits = 6;
inline constexpr int kMaxDigits = 8;
inline constexpr int kMinPeriod = 15;
inline constexpr int kMaxPeriod = 300;

struct OtpParams {
    Algorithm algorithm = Algorithm::sha1;
    int digits = 6;   // kMinDigits..kMaxDigits
    int period = 30;  // seconds, kMinPeriod..kMaxPeriod
};

std::string_view algorithm_name(Algorithm algorithm);             // "SHA1", "SHA256", "SHA512"
std::optional<Algorithm> parse_algorithm(std::string_view name);  // case-insensitive
Status validate(const OtpParams& params);

// The HOTP value for one counter, as a zero-padded decimal string of params.digits
// characters. Fails only if OpenSSL fails or params are out of range.
Result<SecretString> hotp(const SecretBytes& key, std::uint64_t counter, Algorithm algorithm,
                          int digits);

// Whether `code` has the shape of a code of `digits` digits: exactly that many ASCII digits.
bool is_code_shaped(std::string_view code, int digits);

// True if HMAC under `algorithm` uses `a` and `b` as one key, so every code they give is the
// same. HMAC (RFC 2104) hashes a key longer than the hash's block (64 bytes for SHA-1 and
// SHA-256, 128 for SHA-512) and pads a shorter one with zero bytes, so a secret and the same
// secret with zero bytes appended are one key. Constant time for keys of one block or less;
// true as well if OpenSSL fails (a caller refusing a copy then refuses).
bool same_hmac_key(Algorithm algorithm, const SecretBytes& a, const SecretBytes& b);

// The TOTP time step for a Unix time (floor(now / period)); negative times give step 0.
std::uint64_t time_step(std::int64_t unix_time, int period);

struct TotpCheck {
    enum class Outcome {
        accepted,   // matched a step newer than last_step; `step` is that step
        replayed,   // matched a step at or before last_step; `step` is that step
        mismatch,   // no step within the window matched
        malformed,  // input is not exactly params.digits ASCII digits
    };
    Outcome outcome = Outcome::mismatch;
    std::uint64_t step = 0;
};

// Checks `code` against the HOTP value of every counter in [first, last] (a TOTP step is
// a counter too). Every counter is computed and compared in constant time, whether or not
// an earlier one matched. A match above `last_used` (or any match when it is nullopt) is
// accepted, one at or below it replayed; `step` is the matching counter.
TotpCheck check_counters(const SecretBytes& key, Algorithm algorithm, int digits,
                         std::string_view code, std::uint64_t first, std::uint64_t last,
                         std::optional<std::uint64_t> last_used);

// The first counter c in [first, last] whose code is `code1` while c + 1's is `code2` (two
// codes a token showed one after the other), for resynchronisation; nullopt if none is, or
// if a code is malformed or OpenSSL fails. Compares in constant time.
std::optional<std::uint64_t> find_consecutive_codes(const SecretBytes& key, Algorithm algorithm,
                                                    int digits, std::string_view code1,
                                                    std::string_view code2, std::uint64_t first,
                                                    std::uint64_t last);

// Checks `code` against every step in [now_step - window, now_step + window]. Every step
// in the window is computed and compared in constant time, whether or not an earlier one
// matched, so the time taken does not depend on which step (if any) matched.
// `last_step` is the last accepted step (nullopt: none yet).
TotpCheck check_totp(const SecretBytes& key, const OtpParams& params, std::string_view code,
                     std::int64_t unix_time, int window, std::optional<std::uint64_t> last_step);

}  // namespace totp
