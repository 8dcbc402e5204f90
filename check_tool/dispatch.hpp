// SPDX-License-Identifier: Apache-2.0
// Linux-PAM's walk over a stack (libpam/pam_dispatch.c, _pam_dispatch_aux), one module
// result at a time, so that the same rules serve a single run (the libpam comparison test)
// and the search over every combination of results (stack_search.hpp).
#pragma once

#include <array>
#include <cstddef>
#include <optional>

#include "pam_stack.hpp"

namespace totp_check {

enum Impression : int { kUndecided = 0, kPositive = 1, kNegative = -1 };

struct DispatchState {
    std::size_t next = 0;  // the next handler to look at
    int prev_level = 0;
    int impression = kUndecided;
    int status = PAM_PERM_DENIED;
    // Impression and status saved on entering each substack level ("reset" goes back there).
    std::array<std::array<int, 2>, 16> saved{};

    bool operator<(const DispatchState& other) const;
};

struct StepEffect {
    int action = kIgnore;
    std::size_t last_skipped = 0;  // the last handler skipped by a jump or a decision
    bool skipped = false;
};

// Moves past substack markers to the next handler that runs; nullopt at the end.
std::optional<std::size_t> next_handler(const Stack& stack, DispatchState& state);

// Applies the result of the handler next_handler returned.
StepEffect apply_result(const Stack& stack, DispatchState& state, int result);

// The stack's result once next_handler returned nullopt.
int final_result(const DispatchState& state);

// The result the handler at `index` returns when `module_result` would be the module's:
// a line libpam could not set up always returns PAM_PERM_DENIED, a module it could not load
// PAM_MODULE_UNKNOWN.
int handler_result(const Handler& handler, int module_result);

}  // namespace totp_check
