// SPDX-License-Identifier: Apache-2.0
// One authenticator of an enrolled user: removing it, resynchronising it (`add` is in
// enroll.hpp: it shows and confirms a new key like an enrollment).
#pragma once

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

// `remove --name LABEL`: removes that authenticator and keeps the others. The last one is
// refused (the whole enrollment goes only with `remove --user NAME`, root's). The caller
// re-authenticates unless root.
totp::Status remove_named_authenticator(Session& session, const CommandLine& command);

// `resync --name LABEL CODE1 CODE2`: two codes the token showed one after the other set an
// HOTP token's counter or a TOTP token's clock offset (totp::resync). The caller
// re-authenticates unless root.
totp::Status resync_authenticator(Session& session, const CommandLine& command);

}  // namespace totp_enroll
