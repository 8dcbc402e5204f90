// SPDX-License-Identifier: Apache-2.0
#include "dispatch.hpp"

#include <tuple>

namespace totp_check {

bool DispatchState::operator<(const DispatchState& other) const {
    return std::tie(next, prev_level, impression, status, saved) <
           std::tie(other.next, other.prev_level, other.impression, other.status, other.saved);
}

std::optional<std::size_t> next_handler(const Stack& stack, DispatchState& state) {
    while (state.next < stack.handlers.size()) {
        const Handler& handler = stack.handlers[state.next];
        if (state.prev_level < handler.level)
            state.saved[handler.level] = {state.impression, state.status};
        if (handler.kind != HandlerKind::substack) return state.next;
        state.prev_level = handler.level;
        ++state.next;
    }
    return std::nullopt;
}

int handler_result(const Handler& handler, int module_result) {
    if (handler.kind == HandlerKind::must_fail) return PAM_PERM_DENIED;
    if (handler.kind == HandlerKind::unloadable) return PAM_MODULE_UNKNOWN;
    return module_result;
}

StepEffect apply_result(const Stack& stack, DispatchState& state, int result) {
    const auto& handlers = stack.handlers;
    std::size_t at = state.next;
    const int level = handlers[at].level;
    int action = handlers[at].actions[result];
    StepEffect effect{action, at, false};
    bool decided = false;
    switch (action) {
        case kReset:
            state.impression = state.saved[level][0];
            state.status = state.saved[level][1];
            break;
        case kOk:
        case kDone:
            if (state.impression == kUndecided ||
                (state.impression == kPositive && state.status == PAM_SUCCESS)) {
                state.impression = kPositive;
                state.status = result;
            }
            decided = state.impression == kPositive && action == kDone;
            break;
        case kBad:
        case kDie:
            if (state.impression != kNegative) {
                state.impression = kNegative;
                state.status = result == PAM_IGNORE ? PAM_PERM_DENIED : result;
            }
            decided = action == kDie;
            break;
        case kIgnore:
            break;
        default:
            // A jump counts lines of this level; a substack counts as one line.
            while (at + 1 < handlers.size() && handlers[at + 1].level >= level && action > 0) {
                do {
                    ++at;
                } while (at + 1 < handlers.size() && handlers[at + 1].level > level);
                --action;
            }
            if (action != 0) {  // a jump past the end of its stack: libpam's "bad jump"
                state.impression = kNegative;
                state.status = PAM_PERM_DENIED;
            }
            break;
    }
    if (decided) {
        while (at + 1 < handlers.size() && handlers[at + 1].level >= level) ++at;
    }
    effect.skipped = at != state.next;
    effect.last_skipped = at;
    state.prev_level = level;
    state.next = at + 1;
    return effect;
}

int final_result(const DispatchState& state) {
    if (state.status == PAM_SUCCESS && state.impression != kPositive) return PAM_PERM_DENIED;
    return state.status;
}

}  // namespace totp_check
