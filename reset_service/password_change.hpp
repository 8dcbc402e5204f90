// SPDX-License-Identifier: Apache-2.0
// The password change itself: pam_chauthtok on the dedicated PAM service (totp-reset),
// run by the monitor as root, with a conversation that answers the new password to every
// hidden prompt and collects what the policy modules (pam_pwquality) say.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace resetd {

inline constexpr const char* kPamService = "totp-reset";

struct PasswordChange {
    enum class Outcome { changed, refused, failed } outcome = Outcome::failed;
    std::vector<std::string> messages;  // what the modules said, for the form (bounded)
    std::string detail;                 // for the log: the PAM error
};

PasswordChange change_password(const std::string& user, std::string_view new_password,
                               const std::string& client_ip);

}  // namespace resetd
