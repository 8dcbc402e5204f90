// SPDX-License-Identifier: Apache-2.0
// Proves that the person at the terminal is the caller before their record changes: the
// PAM service "totp-enroll" (config/pam.d/totp-enroll) asks for the password and, since
// pam_totp.so nullok is in that stack, a current code or a recovery code if the caller
// is already enrolled, so someone at an unlocked shell cannot move the account to
// their own phone.
#pragma once

#include <string>

#include "privileges.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

inline constexpr const char* kPamService = "totp-enroll";

// pam_start + pam_authenticate + pam_acct_mgmt for `user` with a terminal conversation,
// elevated. A refusal is Errc::not_permitted; Ctrl-C or end of input is Errc::cancelled.
totp::Status authenticate_with_pam(const std::string& user, const Privileges& privileges);

}  // namespace totp_enroll
