// SPDX-License-Identifier: Apache-2.0
// The second-factor decision on any state, input and time, with up to three authenticators
// (TOTP with clock offsets, HOTP): it accepts exactly what an independent check accepts,
// and updates the state exactly as documented (success resets the count and consumes the
// code of the one authenticator that matched and of no other; a failure counts and locks at
// max_failures and moves no authenticator; a locked user's input is not examined).
#include <algorithm>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "state_builder.hpp"
#include "totp/recovery.hpp"
#include "totp/verify.hpp"

namespace {

// A bit for each authenticator whose replay state, offset or last use differs.
unsigned moved_tokens(const totp::UserState& before, const totp::UserState& after) {
    if (before.authenticators.size() != after.authenticators.size())
        fuzz::violated("the number of authenticators changed");
    unsigned moved = 0;
    for (std::size_t i = 0; i < before.authenticators.size(); ++i) {
        const totp::Authenticator& a = before.authenticators[i];
        const totp::Authenticator& b = after.authenticators[i];
        if (a.name != b.name || a.secret.size() != b.secret.size())
            fuzz::violated("an authenticator was replaced");
        if (a.last_step != b.last_step || a.counter != b.counter || a.offset != b.offset ||
            a.last_used != b.last_used)
            moved |= 1u << i;
    }
    return moved;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::int64_t now = input.number(fuzz::kMinTime, fuzz::kMaxTime);
    totp::Policy policy{static_cast<int>(input.number(0, 10)),
                        static_cast<int>(input.number(1, 1000)),
                        static_cast<int>(input.number(1, 86400))};
    fuzz::BuiltState built = fuzz::build_state(input, now);
    fuzz::add_authenticators(input, built.state, now);
    policy.hotp_window = static_cast<int>(input.number(0, 20));
    const totp::UserState& before = built.state;
    if (!totp::validate(before)) fuzz::violated("built state does not validate");
    const std::string answer = fuzz::make_token_answer(input, before, now, policy);

    totp::UserState state = before.clone();
    const totp::Decision decision = totp::decide(state, answer, policy, now);
    const bool expected = fuzz::acceptable_with_tokens(before, answer, now, policy);
    if (totp::is_accepted(decision.verdict) != expected) {
        fuzz::violated(expected ? "a valid answer was refused" : "an invalid answer was accepted");
    }
    if (!totp::validate(state)) fuzz::violated("decide produced an invalid state");

    switch (decision.verdict) {
        case totp::Verdict::locked:
            if (before.locked_until <= now) fuzz::violated("locked while the lock had expired");
            if (decision.state_changed || state.failures != before.failures ||
                moved_tokens(before, state) != 0 || state.recovery != before.recovery)
                fuzz::violated("a locked attempt changed the state");
            break;
        case totp::Verdict::accepted_code: {
            if (decision.authenticator >= before.authenticators.size() ||
                moved_tokens(before, state) != (1u << decision.authenticator))
                fuzz::violated("an accepted code moved another authenticator than its own");
            const totp::Authenticator& old_token = before.authenticators[decision.authenticator];
            const totp::Authenticator& new_token = state.authenticators[decision.authenticator];
            const bool advanced =
                old_token.type == totp::OtpType::hotp
                    ? new_token.counter > old_token.counter &&
                          new_token.counter <= old_token.counter + policy.hotp_window + 1
                    : new_token.last_step &&
                          (!old_token.last_step || *new_token.last_step > *old_token.last_step);
            if (!advanced || new_token.last_used != now)
                fuzz::violated("accepted code did not advance its authenticator");
            if (new_token.offset - old_token.offset != decision.offset_nudge ||
                decision.offset_nudge < -1 || decision.offset_nudge > 1)
                fuzz::violated("the clock offset moved by more than the nudge");
            if (state.recovery != before.recovery) fuzz::violated("code consumed a recovery code");
        }
            [[fallthrough]];
        case totp::Verdict::accepted_recovery:
            if (!decision.state_changed || state.failures != 0 || state.locked_until != 0)
                fuzz::violated("success did not reset the failure count and lock");
            if (decision.verdict == totp::Verdict::accepted_recovery &&
                (state.recovery.size() + 1 != before.recovery.size() ||
                 moved_tokens(before, state) != 0))
                fuzz::violated("recovery code not consumed exactly once");
            // The same answer right away is never accepted again by what accepted it; another
            // authenticator (its own secret) may show the same digits by chance.
            {
                totp::UserState again = state.clone();
                const totp::Decision second = totp::decide(again, answer, policy, now);
                if (totp::is_accepted(second.verdict) &&
                    (second.verdict != decision.verdict ||
                     decision.verdict == totp::Verdict::accepted_recovery ||
                     second.authenticator == decision.authenticator))
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
            if (moved_tokens(before, state) != 0 || state.recovery != before.recovery)
                fuzz::violated("a failure consumed a code");
            break;
        }
    }
    return 0;
}
