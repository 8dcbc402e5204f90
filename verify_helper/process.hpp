// SPDX-License-Identifier: Apache-2.0
// totp-verify runs setuid root with whatever process state its caller left: this puts that
// state back to a known one before anything is read.
#pragma once

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp_verify {

// Descriptors 0-2 open (/dev/null where the caller closed them, so no file opened later
// lands there), every other one closed, every signal at its default and none blocked, an
// empty environment but for a fixed PATH, no core files, no file size, stack, memory or CPU time
// limit and 1024 descriptors, umask 077, the effective group root's, and the run bounded by
// kHelperSelfDeadline. false: a limit the caller lowered, hard limit too, could not be raised
// (no CAP_SYS_RESOURCE): the helper must refuse before it reads anything.
[[nodiscard]] bool reset_process_state();

// Standard input, at most kMaxHelperInput + 1 bytes, until end of file. Refused when it is
// a terminal: the helper is for programs, and a person typing guesses has PAM for that.
totp::Result<totp::SecretString> read_code_input();

}  // namespace totp_verify
