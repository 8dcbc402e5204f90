// SPDX-License-Identifier: Apache-2.0
// The benchmark's users: names, secrets derived from the run's seed (so any process of
// the run can recompute them), and the codes they type.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "totp/secret.hpp"

namespace bench {

// Every service enrolls every user with the same kind of secret: 20 random bytes,
// HMAC-SHA1, 6 digits, 30-second steps (what phone apps use by default).
inline constexpr std::size_t kSecretBytes = 20;
inline constexpr int kDigits = 6;
inline constexpr int kPeriod = 30;

std::string user_name(std::size_t index);  // "bu000042"
std::uint32_t user_uid(std::size_t index);

// SHA-256(seed || index), first kSecretBytes bytes.
totp::SecretBytes user_secret(std::uint64_t seed, std::size_t index);

std::int64_t unix_now();
std::uint64_t current_step();

// The code for one time step.
std::string code_for_step(const totp::SecretBytes& secret, std::uint64_t step);
// Six digits that match no step within kWrongMargin of `step`, for any of the services'
// windows (pam_oath's window=3 is the widest).
inline constexpr int kWrongMargin = 4;
std::string wrong_code(const totp::SecretBytes& secret, std::uint64_t step);

}  // namespace bench
