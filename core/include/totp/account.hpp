// SPDX-License-Identifier: Apache-2.0
// The one account lookup every program uses (NSS: getpwnam_r, getpwuid_r), group
// membership (getgrnam_r, getgrouplist) and the password's shadow status (getspnam_r).
//
// "Not found" has one meaning everywhere: NSS answered and knows no such account
// (Errc::not_found). Any other failure of the lookup (an unreachable directory server, a
// broken nsswitch.conf) is Errc::io, and callers fail closed on it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "totp/result.hpp"

namespace totp {

struct Account {
    std::string name;  // the passwd entry's own name (pw_name)
    uid_t uid = 0;
    gid_t gid = 0;
    std::string home;
    std::string shell;
};

// The passwd entry for `name` as NSS spells it (a case-insensitive source may answer
// "alice" for "Alice").
Result<Account> find_account(std::string_view name);

// The passwd entry NSS gives for `uid`: with several entries sharing a uid, the first.
Result<Account> find_account(uid_t uid);

// Every name /etc/passwd gives `uid` (NSS has no lookup of all names of a uid). Only the
// local file: names that other sources give one uid are found through find_account.
Result<std::vector<std::string>> local_names_of(uid_t uid);

// Every account NSS enumerates (getpwent_r), in its order. Errc::io if the enumeration fails
// part way.
Result<std::vector<Account>> all_accounts();

// The account a typed login name logs into, named canonically: the entry for the name's
// uid. So "Alice", "alice@example.com" (winbind, SSSD) and an alias line sharing alice's
// uid all give "alice", and a record keyed by the canonical name is found whatever
// spelling the login program passed.
Result<Account> canonical_account(std::string_view typed);

// Whether `account` belongs to `group`, as its primary group or a supplementary one.
// Errc::not_found: NSS knows no such group; Errc::io: a lookup failed.
Result<bool> is_member(const Account& account, std::string_view group);

// What the shadow database says about an account's password (reading it needs root).
struct PasswordStatus {
    bool locked = true;  // the hash starts with '!' or '*'
    long expires = -1;   // the day (since the epoch) the account expires; -1: never
};

// Errc::not_found: no shadow entry for `name`.
Result<PasswordStatus> find_password_status(std::string_view name);

// The first uid useradd gives a person: UID_MIN from a login.defs file, 1000 (Debian's
// default) when the file or the key is missing or unreadable. Below it are system accounts.
inline constexpr uid_t kDefaultUidMin = 1000;
uid_t read_uid_min(const std::string& login_defs = "/etc/login.defs");

}  // namespace totp
