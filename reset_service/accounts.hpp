// SPDX-License-Identifier: Apache-2.0
// Which accounts may reset their password by mail: regular users (uid >= UID_MIN from
// /etc/login.defs) in none of reset_exclude_groups, whose password is not locked, whose
// account has not expired and which the system's account policy (pam_acct_mgmt on the
// totp-reset service) accepts. A reset must never unlock an account an administrator
// locked, nor hand an administrator's account to whoever reads its mailbox.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resetd {

enum class Eligibility {
    eligible,
    unknown,         // no such user (or the lookup failed)
    other_name,      // not the account's own name (the uid's entry), such as an alias line
    system_account,  // uid below UID_MIN
    privileged,      // a member of one of reset_exclude_groups (or membership is unknown)
    locked,          // shadow hash starts with '!' or '*', or there is no shadow entry
    expired,         // the account's expiry date has passed
    refused_by_pam,  // pam_acct_mgmt said no
};

struct AccountRules {
    uid_t uid_min = 1000;
    std::vector<std::string> exclude_groups;
};

struct AccountCheck {
    Eligibility eligibility = Eligibility::unknown;
    std::string reason;  // for the log

    bool eligible() const { return eligibility == Eligibility::eligible; }
};

// Reads passwd, group and shadow and runs pam_acct_mgmt (needs root). Every refusal looks
// the same to the requester; only the reason in the log differs. Only the account's own
// name passes (DESIGN.md: a typed name that differs is refused), so an eligible `user` is
// the name the record, the links, the limits and PAM are keyed by; reset_exclude_groups
// are checked under every name of the account.
AccountCheck check_account(std::string_view user, const AccountRules& rules, std::int64_t now);

// The two halves of check_account: the user database, then PAM. PAM loads its modules on
// every call, so the mail worker asks it last, only for an account that would get a mail.
AccountCheck check_user_database(std::string_view user, const AccountRules& rules,
                                 std::int64_t now);
AccountCheck check_pam_account(const std::string& user);

// Only the shadow entry: eligible, locked or expired. Cheap enough to ask again at the
// last moment before the password is written.
Eligibility password_status(std::string_view user, std::int64_t now);

}  // namespace resetd
