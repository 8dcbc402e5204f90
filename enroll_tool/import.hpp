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

// Every user line of a pam_oath users file (root), reporting per line what was imported
// and what was not and why. Users enrolled already are left alone.
totp::Status import_oath(Session& session, const CommandLine& command);

// Every key of a PSKC (RFC 6030) container (root), for the users its serials are mapped
// to (--map, --map-file), decrypted with --password-file or --key-file; reported like
// import_oath. A bad mapping, key or file writes nothing.
totp::Status import_pskc(Session& session, const CommandLine& command);

}  // namespace totp_enroll
