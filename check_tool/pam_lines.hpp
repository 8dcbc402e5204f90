// SPDX-License-Identifier: Apache-2.0
// --print-pam-lines: every pam_totp line libpam may read, for remove-check (packaging/), which
// must not remove the module or its store backend while one of them needs it. The lines are
// read with the PAM model (pam_stack.hpp), so that no second parser can disagree with libpam.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "pam_stack.hpp"

namespace totp_check {

// Prints one line per pam_totp line, "FILE:LINE: MODULE ARGUMENT...", from every file in
// /etc/pam.d and /usr/lib/pam.d, /etc/pam.conf and the files they include, each printed once.
// Bytes that are not printable ASCII, spaces and backslashes are written as \ooo, so that a
// shell script splits the line on spaces alone. Returns false when a file or an include
// could not be read (what it holds is unknown), after printing what could be read and
// telling `errors` why. Services whose names match a pattern of `except` (fnmatch) are not
// read for themselves (the package's own, which go with the module); what another service
// includes from them still is.
bool print_pam_lines(const PamConfigDir& dir, const std::vector<std::string>& except,
                     std::ostream& out, std::ostream& errors);

}  // namespace totp_check
