// SPDX-License-Identifier: Apache-2.0
#include "accounts.hpp"

#include "password_change.hpp"
#include "totp/account.hpp"

namespace resetd {
namespace {

// The account under each of its names: /etc/group lists members by name, and an alias line
// sharing the uid may be the one named there (getgrouplist goes by name and the line's gid).
totp::Result<std::vector<totp::Account>> every_name_of(const totp::Account& account) {
    const totp::Result<std::vector<std::string>> names = totp::local_names_of(account.uid);
    if (!names) return names.error();
    std::vector<totp::Account> named = {account};
    for (const std::string& name : *names) {
        if (name == account.name) continue;
        totp::Result<totp::Account> other = totp::find_account(name);
        if (!other) return other.error();
        named.push_back(std::move(*other));
    }
    return named;
}

// A group that does not exist (wheel on Debian) excludes nobody; one whose members cannot
// be listed excludes everyone: fail closed.
AccountCheck excluded_group(const totp::Account& account, const std::string& group) {
    const totp::Result<bool> member = totp::is_member(account, group);
    if (!member && member.error().code == totp::Errc::not_found)
        return {Eligibility::eligible, "eligible"};
    if (!member) {
        return {Eligibility::privileged, "membership of group '" + group + "' cannot be checked (" +
                                             member.error().message + ")"};
    }
    if (*member) {
        return {Eligibility::privileged, "a member of group '" + group +
                                             "' (reset_exclude_groups) as '" + account.name + "'"};
    }
    return {Eligibility::eligible, "eligible"};
}

// Excluded when any name of the account is in an excluded group.
AccountCheck excluded_groups(const totp::Account& account, const AccountRules& rules) {
    if (rules.exclude_groups.empty()) return {Eligibility::eligible, "eligible"};
    const totp::Result<std::vector<totp::Account>> names = every_name_of(account);
    if (!names) {
        return {Eligibility::privileged,
                "the account's names cannot be listed (" + names.error().message + ")"};
    }
    for (const totp::Account& named : *names) {
        for (const std::string& group : rules.exclude_groups) {
            if (AccountCheck excluded = excluded_group(named, group); !excluded.eligible()) {
                return excluded;
            }
        }
    }
    return {Eligibility::eligible, "eligible"};
}

}  // namespace

Eligibility password_status(std::string_view user, std::int64_t now) {
    // No shadow entry, or one that cannot be read, counts as locked: a reset must not
    // unlock it.
    const totp::Result<totp::PasswordStatus> password = totp::find_password_status(user);
    if (!password || password->locked) return Eligibility::locked;
    const std::int64_t today = now / 86400;
    if (password->expires >= 0 && password->expires <= today) return Eligibility::expired;
    return Eligibility::eligible;
}

AccountCheck check_user_database(std::string_view user_view, const AccountRules& rules,
                                 std::int64_t now) {
    const std::string user(user_view);
    const totp::Result<totp::Account> account = totp::canonical_account(user);
    if (!account) {
        if (account.error().code == totp::Errc::not_found) {
            return {Eligibility::unknown, "no such user"};
        }
        return {Eligibility::unknown, "the user lookup failed (" + account.error().message + ")"};
    }
    if (account->name != user) {
        return {Eligibility::other_name,
                "not the account's own name (that is '" + account->name + "')"};
    }
    if (account->uid < rules.uid_min) return {Eligibility::system_account, "a system account"};
    if (AccountCheck excluded = excluded_groups(*account, rules); !excluded.eligible()) {
        return excluded;
    }
    switch (password_status(user, now)) {
        case Eligibility::eligible:
            return {Eligibility::eligible, "eligible"};
        case Eligibility::expired:
            return {Eligibility::expired, "the account has expired"};
        default:
            return {Eligibility::locked, "the password is locked"};
    }
}

AccountCheck check_pam_account(const std::string& user) {
    const AccountManagement pam = check_account_management(user);
    if (!pam.allowed) {
        return {Eligibility::refused_by_pam,
                "refused by PAM account management (" + pam.detail + ")"};
    }
    return {Eligibility::eligible, "eligible"};
}

AccountCheck check_account(std::string_view user, const AccountRules& rules, std::int64_t now) {
    AccountCheck database = check_user_database(user, rules, now);
    if (!database.eligible()) return database;
    return check_pam_account(std::string(user));
}

}  // namespace resetd
