// SPDX-License-Identifier: Apache-2.0
// Looking at and managing enrollments: status, list, unlock, remove, recovery-codes.
#pragma once

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

totp::Status show_status(Session& session, const CommandLine& command);
totp::Status list_enrolled(Session& session, const CommandLine& command);  // root
totp::Status unlock_user(Session& session, const CommandLine& command);    // root
totp::Status remove_user(Session& session, const CommandLine& command);    // root

// A new set of recovery codes, printed once; the old set stops working.
totp::Status renew_recovery_codes(Session& session, const CommandLine& command);

}  // namespace totp_enroll
