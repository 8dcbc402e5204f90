// SPDX-License-Identifier: Apache-2.0
// What each line of a stack can return, as far as its module is known: pam_permit always
// succeeds, pam_deny always fails, pam_rootok succeeds only for root, pam_succeed_if on a
// condition, pam_totp only after checking a code; any other module may return anything.
#pragma once

#include <string>
#include <vector>

#include "pam_stack.hpp"

namespace totp_check {

enum class Role {
    other,
    permit,
    deny,
    rootok,
    condition,   // pam_succeed_if (and the like): succeeds when its condition holds
    password,    // checks a password (pam_unix, pam_sss, ...)
    totp_check,  // a pam_totp line that checks the code
    totp_split,  // a pam_totp forward_pass line: only splits, never succeeds
};

// What a path through the stack has met so far.
enum PathFlag : unsigned {
    kCodeChecked = 1u << 0,     // a pam_totp line accepted a code
    kRootOnly = 1u << 1,        // pam_rootok succeeded: only root takes this path
    kConditional = 1u << 2,     // taken only when a condition holds (pam_succeed_if, groups)
    kNullok = 1u << 3,          // pam_totp ignored a user who has not enrolled (nullok)
    kPasswordOk = 1u << 4,      // a password module succeeded
    kPasswordFailed = 1u << 5,  // a password module failed
};

// A line as the search sees it: its role and what pam_totp's settings allow it to return.
struct LineFacts {
    Role role = Role::other;
    bool nullok = false;       // pam_totp returns PAM_IGNORE for users who have not enrolled
    std::string ignored_when;  // pam_totp returns PAM_IGNORE for this group scope
    std::string condition;     // pam_succeed_if's condition, in words
};

struct Outcome {
    int result = PAM_SUCCESS;
    unsigned flags = 0;
    std::string condition;
};

Role role_of(const Handler& handler);
bool is_password_module(const std::string& module);

// One result for each distinct way the line's control treats its module's possible
// results (the search need not try two results the stack handles alike).
std::vector<Outcome> outcomes(const Handler& handler, const LineFacts& facts);

}  // namespace totp_check
