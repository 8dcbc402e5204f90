// SPDX-License-Identifier: Apache-2.0
// The module's side of totp-verify (totp/verify_helper.hpp): a caller that is not root
// cannot open the root-only records, so the setuid helper checks and records the code.
#pragma once

#include <chrono>
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

// The same with another program and deadline, for tests of the waiting and the judging
// (tests/hardening/test_helper_client.cpp). Nothing at run time reaches it with another
// path: the module calls only ask_verify_helper, and exports only pam_sm_*.
HelperAnswer run_verify_helper(const char* path, const std::string& user,
                               const totp::SecretString& code, std::chrono::milliseconds deadline);

}  // namespace pam_totp
