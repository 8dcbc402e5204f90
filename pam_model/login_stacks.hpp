// SPDX-License-Identifier: Apache-2.0
// Whether this host's logins run pam_totp at all: the files whose auth stack decides it
// (Debian's common-auth, which every login service includes; elsewhere each login service
// and system-auth), and for each, whether a pam_totp line checks the code after a password
// module. totp-check reports a host where none does; totp-enroll status and list warn.
#pragma once

#include <string>
#include <vector>

#include "pam_stack.hpp"

namespace totp_check {

// The line to add, as the package's pam-auth-update profile writes it.
inline constexpr const char* kTotpAuthLine = "auth required pam_totp.so";

struct LoginStack {
    std::string name;  // "common-auth", "sshd", ...
    std::string path;  // the file as the host names it: "/etc/pam.d/common-auth"
    bool runs_totp = false;
    int insert_after = 0;  // the line pam_totp goes after: the end of the password block
};

// Debian's common-auth where it exists; otherwise those of sshd, login, su, sudo and
// system-auth that exist. Each stack is read alone (load_file_auth_stack), includes followed.
std::vector<LoginStack> login_stacks(const PamConfigDir& dir);

// Whether some pam_totp line that checks the code comes after a password module.
bool runs_totp_after_password(const Stack& stack);

// True when login_stacks() found stacks and none of them runs pam_totp after the password:
// then logins on this host do not ask for a code.
bool no_login_stack_runs_totp(const std::vector<LoginStack>& stacks);

// Where and what to add, for a message: "add the line 'auth required pam_totp.so' to FILE
// after line N (the end of the password block)".
std::string how_to_add_totp(const LoginStack& login);

}  // namespace totp_check
