// SPDX-License-Identifier: Apache-2.0
// Enrollment: a new key, shown as a QR code, confirmed with a code from the app, then
// activated together with a set of recovery codes.
#pragma once

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

// The whole flow for the target (--user, else the caller). Nothing is written unless
// the new key is confirmed (or --no-confirm); until then the previous enrollment, if
// any, keeps working.
totp::Status enroll(Session& session, const CommandLine& command);

// `add`: one more authenticator (--name, --type totp|hotp) for an enrolled user, shown and
// confirmed like an enrollment; the caller re-authenticates (password and a current code)
// unless root. Refused when the name is taken or max_authenticators is reached.
totp::Status add_named_authenticator(Session& session, const CommandLine& command);

}  // namespace totp_enroll
