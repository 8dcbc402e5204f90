// Looking at and managing enrollments: status, list, unlock, remove, recovery-codes.
#pragma once

#include "command_line.hpp"
#include "failure.hpp"
#include "session.hpp"

namespace totp_enroll {

Outcome show_status(Session& session, const CommandLine& command);
Outcome list_enrolled(Session& session, const CommandLine& command);  // root
Outcome unlock_user(Session& session, const CommandLine& command);    // root
Outcome remove_user(Session& session, const CommandLine& command);    // root

// A new set of recovery codes, printed once; the old set stops working.
Outcome renew_recovery_codes(Session& session, const CommandLine& command);

}  // namespace totp_enroll
