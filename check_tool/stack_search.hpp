// SPDX-License-Identifier: Apache-2.0
// Tries every way a stack can run, given what each line can return (module_model.hpp), and
// keeps one path for each kind of weakness: a success without a code, a success that needs
// nullok or a condition, and a code asked after a wrong password.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dispatch.hpp"
#include "module_model.hpp"

namespace totp_check {

struct Step {
    std::size_t handler = 0;
    int result = PAM_SUCCESS;
    StepEffect effect;
    std::string condition;
};

struct Path {
    std::vector<Step> steps;
    unsigned flags = 0;
};

struct SearchResult {
    std::optional<Path> bypass;       // success, no code, for anyone
    std::optional<Path> conditional;  // success, no code, when a condition holds
    std::optional<Path> nullok;       // success, no code, for users who have not enrolled
    std::optional<Path> code_after_wrong_password;  // ends at the pam_totp line that asks
    bool can_succeed = false;
};

// `caller_unprivileged`: the program calling libpam runs as its user (su, sudo, ...), so
// pam_rootok succeeds for root alone; elsewhere (sshd, login, display managers) the caller
// is root and pam_rootok lets everyone in.
SearchResult search_stack(const Stack& stack, const std::vector<LineFacts>& facts,
                          bool caller_unprivileged);

}  // namespace totp_check
