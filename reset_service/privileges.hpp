// SPDX-License-Identifier: Apache-2.0
// How the web process gives up root for good, before it reads a single byte of HTTP.
#pragma once

#include <sys/types.h>

#include <string>

#include "totp/result.hpp"

namespace resetd {

struct WebAccount {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The account must exist and be neither root nor in root's group.
totp::Result<WebAccount> find_web_account(const std::string& name);

// Makes `path` an empty-enough jail: a directory owned by root and not writable by anyone
// else; created (0755) when missing. An empty path means no jail.
totp::Status prepare_jail(const std::string& path);

// In the web process, in this order: chroot into the jail; drop every capability from the
// bounding set; setgroups(0), setresgid, setresuid to the account; check that root cannot
// be regained and no capability is left; PR_SET_NO_NEW_PRIVS; die with the monitor.
totp::Status drop_privileges(const WebAccount& account, const std::string& jail, pid_t monitor);

// Both processes: no core dumps (the monitor holds passwords) and no ptrace by peers.
void forbid_core_dumps();

}  // namespace resetd
