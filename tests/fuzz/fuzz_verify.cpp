// SPDX-License-Identifier: Apache-2.0
// The second-factor decision on any state, input and time: it accepts exactly what an
// independent check accepts, and updates the state exactly as documented (success resets
// the count and consumes the code; a failure counts and locks at max_failures; a locked
// user's input is not examined).
#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "one_token.hpp"
#include "state_builder.hpp"
#include "totp/recovery.hpp"
#include "totp/verify.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::int64_t now = input.number(fuzz::kMinTime, fuzz::kMaxTime);
    const totp::Policy policy{static_cast<int>(input.number(0, 10)),
                              static_cast<int>(input.number(1, 1000)),
                              static_cast<int>(input.number(1, 86400))};
    const fuzz::BuiltState built = fuzz::build_state(input, now);
    const totp::UserState& before = built.state;
    if (!totp::validate(before)) fuzz::violated("built state does not validate");
    const std::string answer = fuzz::make_answer(input, before, now);

    totp::UserState state = before.clone();
    const totp::Decision decision = totp::decide(state, answer, policy, now);
    const bool expected = fuzz::acceptable(before, answer, now, policy.window);
    if (totp::is_accepted(decision.verdict) != expected) {
        fuzz::violated(expected ? "a valid answer was refused" : "an invalid answer was accepted");
    }
    if (!totp::validate(state)) fuzz::violated("decide produced an invalid state");

    switch (decision.verdict) {
        case totp::Verdict::locked:
            if (before.locked_until <= now) fuzz::violated("locked while the lock had expired");
            if (decision.state_changed || state.failures != before.failures ||
                one_token(state).last_step != one_token(before).last_step ||
                state.recovery != before.recovery)
                fuzz::violated("a locked attempt changed the state");
            break;
        case totp::Verdict::accepted_code:
            if (!one_token(state).last_step ||
                (one_token(before).last_step &&
                 *one_token(state).last_step <= *one_token(before).last_step))
                fuzz::violated("accepted code did not advance last_step");
            if (state.recovery != before.recovery) fuzz::violated("code consumed a recovery code");
            [[fallthrough]];
        case totp::Verdict::accepted_recovery:
            if (!decision.state_changed || state.failures != 0 || state.locked_until != 0)
                fuzz::violated("success did not reset the failure count and lock");
            if (decision.verdict == totp::Verdict::accepted_recovery &&
                (state.recovery.size() + 1 != before.recovery.size() ||
                 one_token(state).last_step != one_token(before).last_step))
                fuzz::violated("recovery code not consumed exactly once");
            // The same answer right away is never accepted again.
            {
                totp::UserState again = state.clone();
                if (totp::is_accepted(totp::decide(again, answer, policy, now).verdict))
                    fuzz::violated("an accepted answer was accepted twice");
            }
            break;
        case totp::Verdict::wrong:
        case totp::Verdict::replayed: {
            if (!decision.state_changed) fuzz::violated("failure not recorded");
            // Counted up to what a state file can hold (docs/state-format.md).
            const std::uint32_t failures = std::min<std::uint32_t>(before.failures + 1, 1000000);
            if (state.failures != failures) fuzz::violated("failure count not incremented by one");
            const bool lock = failures >= static_cast<std::uint32_t>(policy.max_failures);
            if (decision.lockout_started != lock ||
                (lock && state.locked_until != now + policy.lockout_seconds) ||
                (!lock && state.locked_until != before.locked_until))
                fuzz::violated("lockout does not follow max_failures");
            if (one_token(state).last_step != one_token(before).last_step ||
                state.recovery != before.recovery)
                fuzz::violated("a failure consumed a code");
            break;
        }
    }
    return 0;
}
