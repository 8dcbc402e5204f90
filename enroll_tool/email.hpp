// SPDX-License-Identifier: Apache-2.0
// The address password resets are sent to (totp-resetd). It is recorded, as verified,
// only once the user has typed back a code mailed to it.
#pragma once

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

totp::Status verify_email(Session& session, const CommandLine& command);

}  // namespace totp_enroll
