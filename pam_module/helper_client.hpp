// SPDX-License-Identifier: Apache-2.0
// The module's side of totp-verify (totp/verify_helper.hpp): a caller that is not root
// cannot open the root-only records, so the setuid helper checks and records the code.
#pragma once

#include <string>

#include "totp/secret.hpp"

namespace pam_totp {

struct HelperAnswer {
    enum class Kind { accepted, refused, failed };
    Kind kind = Kind::failed;
    std::string problem;  // failed: why, one line for the log
};

// Runs the helper at its compiled-in path with `user` as its argument, the code on a pipe,
// an empty environment and no other descriptor, and waits at most kHelperDeadline.
// Anything but the helper's "yes" and a clean exit is not accepted.
HelperAnswer ask_verify_helper(const std::string& user, const totp::SecretString& code);

}  // namespace pam_totp
