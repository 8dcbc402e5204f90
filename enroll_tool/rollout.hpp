// SPDX-License-Identifier: Apache-2.0
// Rolling out and enforcing: the rollout file next to the config (totp/rollout.hpp), written
// by `enforce` and `rollout`, and what status and list say about it and about whether this
// host's logins run pam_totp at all.
#pragma once

#include <string>
#include <vector>

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

// Writes "enforce", refused (Errc::io, the accounts listed) while accounts that can log in
// have not enrolled, unless --force.
totp::Status enforce(Session& session, const CommandLine& command);  // root

// Writes "rollout".
totp::Status roll_out(Session& session, const CommandLine& command);  // root

// The rollout mode and what it means for users who have not enrolled, then a WARNING with
// the line to add for each login stack of the host (or of --pam-root) that does not run
// pam_totp after the password.
std::vector<std::string> login_policy_lines(const Session& session, const CommandLine& command);

}  // namespace totp_enroll
