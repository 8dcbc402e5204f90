// SPDX-License-Identifier: Apache-2.0
// Which accounts may reset their password by mail: regular users (uid >= UID_MIN from
// /etc/login.defs) whose password is not locked and whose account has not expired. A reset
// must never unlock an account an administrator locked.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace resetd {

enum class Eligibility {
    eligible,
    unknown,         // no such user (or the lookup failed)
    system_account,  // uid below UID_MIN
    locked,          // shadow hash starts with '!' or '*', or there is no shadow entry
    expired,         // the account's expiry date has passed
};

const char* describe(Eligibility eligibility);

// UID_MIN from a login.defs file; 1000 (Debian's default) when the file or key is missing.
uid_t read_uid_min(const char* login_defs = "/etc/login.defs");

// Reads passwd and shadow (needs root).
Eligibility check_account(std::string_view user, uid_t uid_min, std::int64_t now);

}  // namespace resetd
