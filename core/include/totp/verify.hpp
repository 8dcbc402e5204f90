// SPDX-License-Identifier: Apache-2.0
// The second-factor decision, shared by the PAM module and the reset service: given a
// user's state and what they typed, decide and update the state (the caller saves it
// under the store's lock).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "totp/user_state.hpp"

namespace totp {

struct Policy {
    int window = 1;
    int max_failures = 5;
    int lockout_seconds = 300;
};

enum class Verdict {
    accepted_code,      // a TOTP code for a step newer than the last accepted one
    accepted_recovery,  // an unused recovery code, now consumed
    wrong,              // neither a valid code nor an unused recovery code
    replayed,           // a valid code for a step already used (counted as a failure)
    locked,             // the user is locked out; the input was not examined
};

struct Decision {
    Verdict verdict = Verdict::wrong;
    bool state_changed = false;    // the caller must save the state before acting on it
    bool lockout_started = false;  // this failure (re)started a lockout
};

// Rate limiting: while now < locked_until nothing is examined and nothing changes.
// A failure increments `failures`; once failures >= max_failures every failure (re)locks
// the user for lockout_seconds. Success resets failures and the lock.
Decision decide(UserState& state, std::string_view input, const Policy& policy, std::int64_t now);

bool is_accepted(Verdict verdict);

}  // namespace totp
