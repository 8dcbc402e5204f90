// SPDX-License-Identifier: Apache-2.0
#include "stack_search.hpp"

#include <set>
#include <utility>

namespace totp_check {
namespace {

class Search {
  public:
    Search(const Stack& stack, const std::vector<LineFacts>& facts, bool caller_unprivileged)
        : stack_(stack),
          facts_(facts),
          exempt_(kCodeChecked | (caller_unprivileged ? unsigned{kRootOnly} : 0u)) {
        for (std::size_t i = 0; i < stack.handlers.size(); ++i)
            outcomes_.push_back(outcomes(stack.handlers[i], facts[i]));
    }

    SearchResult run() {
        walk(DispatchState{}, 0);
        return std::move(result_);
    }

  private:
    // Depth-first over the results of each line that runs; a state met before (with the
    // same flags) leads to nothing new.
    void walk(DispatchState state, unsigned flags) {
        const std::optional<std::size_t> at = next_handler(stack_, state);
        if (!seen_.insert({state, flags}).second) return;
        if (!at) return finish(state, flags);
        if (facts_[*at].role == Role::totp_check && (flags & kPasswordFailed) &&
            !(flags & kPasswordOk) && !result_.code_after_wrong_password) {
            path_.steps.push_back(Step{*at, PAM_SUCCESS, {}, {}});
            result_.code_after_wrong_password = Path{path_.steps, flags};
            path_.steps.pop_back();
        }
        for (const Outcome& outcome : outcomes_[*at]) {
            DispatchState next = state;
            const int result = handler_result(stack_.handlers[*at], outcome.result);
            const StepEffect effect = apply_result(stack_, next, result);
            path_.steps.push_back(Step{*at, result, effect, outcome.condition});
            walk(next, flags | outcome.flags);
            path_.steps.pop_back();
        }
    }

    void finish(const DispatchState& state, unsigned flags) {
        if (final_result(state) != PAM_SUCCESS) return;
        result_.can_succeed = true;
        if (flags & exempt_) return;
        std::optional<Path>& slot = (flags & kNullok)        ? result_.nullok
                                    : (flags & kConditional) ? result_.conditional
                                                             : result_.bypass;
        if (!slot) slot = Path{path_.steps, flags};
    }

    const Stack& stack_;
    const std::vector<LineFacts>& facts_;
    const unsigned exempt_;  // flags of paths that are no way around the code
    std::vector<std::vector<Outcome>> outcomes_;
    std::set<std::pair<DispatchState, unsigned>> seen_;
    Path path_;
    SearchResult result_;
};

}  // namespace

SearchResult search_stack(const Stack& stack, const std::vector<LineFacts>& facts,
                          bool caller_unprivileged) {
    return Search(stack, facts, caller_unprivileged).run();
}

}  // namespace totp_check
