// Group membership through NSS (getgrnam_r, getgrouplist), for require_group/exempt_group.
#pragma once

#include <string>

#include "totp/account.hpp"

namespace pam_totp {

enum class Membership { member, not_member, no_such_group, error };
Membership group_membership(const totp::Account& account, const std::string& group);

}  // namespace pam_totp
