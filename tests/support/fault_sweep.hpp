// SPDX-License-Identifier: Apache-2.0
// Every failure path of one of alice's attempts (alice.hpp), deterministically: each call
// faults.hpp wraps (open, read, write, fsync, link, flock, getpwnam_r, ...) is made to fail
// in turn, one at a time, with each kind of failure. Serves the module's and totp-verify's
// fault sweeps, so both are held to the same checks.
#pragma once

#include <functional>

#include "alice.hpp"
#include "faults.hpp"
#include "totp/user_state.hpp"

namespace hardening {

struct Sweep {
    const char* name;
    bool home_layout = false;  // where alice's state file is
    // A fresh enrollment, the same each time; returns the state it saved.
    std::function<totp::UserState()> enroll;
    std::function<Attempt(const totp::UserState& state, const faults::Plan& plan)> attempt;
};

// Runs the attempt without faults (its result must be `expected`), then once per wrapped
// call, occurrence (the first three) and failure (EIO, ENOSPC, EROFS, EACCES, EINTR, a short
// transfer), each after a fresh enrollment. Whatever fails: no acceptance after a failed
// store write, and an acceptance has consumed its code on disk; an attempt accepted without
// faults that is not says why at LOG_ERR or worse; retried calls (EINTR, short transfers)
// change nothing; the state file still decodes with its secret; the process keeps its
// filesystem identity. More than 10 runs must hit a call.
void sweep(const Sweep& sweep, int expected);

}  // namespace hardening
