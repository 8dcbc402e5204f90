// Account and group lookups through NSS (getpwnam_r, getgrnam_r, getgrouplist).
#pragma once

#include <sys/types.h>

#include <string>

namespace pam_totp {

struct Account {
    uid_t uid = 0;
    gid_t gid = 0;
};

enum class Lookup { found, unknown, error };
Lookup lookup_account(const std::string& user, Account& account);

enum class Membership { member, not_member, no_such_group, error };
Membership group_membership(const std::string& user, const Account& account,
                            const std::string& group);

}  // namespace pam_totp
