// SPDX-License-Identifier: Apache-2.0
// The PAM side of a reset, on the dedicated PAM service (totp-reset), run by the monitor as
// root: the account check (pam_acct_mgmt) and the password change itself (pam_chauthtok),
// with a conversation that answers the new password to every hidden prompt and collects
// what the policy modules (pam_pwquality) say.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace resetd {

inline constexpr const char* kPamService = "totp-reset";

struct AccountManagement {
    bool allowed = false;
    std::string detail;  // for the log: the PAM error
};

// pam_acct_mgmt: expiry, password inactivity (pam_unix), and whatever else the admin's
// account stack refuses. A password that must be changed (PAM_NEW_AUTHTOK_REQD) is allowed:
// changing it is what a reset does.
AccountManagement check_account_management(const std::string& user);

struct PasswordChange {
    enum class Outcome {
        changed,
        refused,    // the policy said no (messages say why)
        withdrawn,  // still_allowed() said no: nothing was written
        failed,
    } outcome = Outcome::failed;
    std::vector<std::string> messages;  // what the modules said, for the form (bounded)
    std::string detail;                 // for the log: the PAM error
};

// Asks still_allowed() right before pam_chauthtok and again at every hidden prompt: with
// pam_pwquality the last prompt is answered after its check and just before pam_unix
// writes, so an administrator's lock made meanwhile stops the change instead of being
// overwritten. What remains is pam_unix's own work after that answer (its checks, the hash
// and the write): a lock made within those milliseconds is lost.
PasswordChange change_password(const std::string& user, std::string_view new_password,
                               const std::string& client_ip,
                               const std::function<bool()>& still_allowed);

}  // namespace resetd
