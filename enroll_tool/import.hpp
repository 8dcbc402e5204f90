// SPDX-License-Identifier: Apache-2.0
// Migration from the modules users come from, without re-scanning phones: the secret,
// algorithm, digits and period stay exactly what the user's app already has.
#pragma once

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

// ~/.google_authenticator of the target (or FILE), read with the caller's rights.
totp::Status import_google_authenticator(Session& session, const CommandLine& command);

// Every time-based user line of a pam_oath users file (root), reporting per user what
// was imported and what was skipped and why. Users enrolled already are left alone.
totp::Status import_oath(Session& session, const CommandLine& command);

}  // namespace totp_enroll
