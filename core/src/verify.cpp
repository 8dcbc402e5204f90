// SPDX-License-Identifier: Apache-2.0
#include "totp/verify.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "totp/otp.hpp"
#include "totp/recovery.hpp"

namespace totp {
namespace {

Decision record_success(UserState& state, Verdict verdict) {
    state.failures = 0;
    state.locked_until = 0;
    return Decision{verdict, true, false};
}

Decision record_failure(UserState& state, Verdict verdict, const Policy& policy, std::int64_t now) {
    if (state.failures < kMaxFailures) ++state.failures;
    const bool lock = state.failures >= static_cast<std::uint32_t>(policy.max_failures);
    if (lock) state.locked_until = now + policy.lockout_seconds;
    return Decision{verdict, true, lock};
}

// Where a TOTP token's window is centred: now's step plus the token's offset.
std::uint64_t centre_step(const Authenticator& token, std::int64_t now) {
    const std::uint64_t now_step = time_step(now, token.params.period);
    if (token.offset < 0) {
        const auto behind = static_cast<std::uint64_t>(-static_cast<std::int64_t>(token.offset));
        return now_step > behind ? now_step - behind : 0;
    }
    return now_step + static_cast<std::uint64_t>(token.offset);
}

// Every candidate code of one authenticator, compared in constant time.
TotpCheck check_authenticator(const Authenticator& token, std::string_view input,
                              const Policy& policy, std::int64_t now) {
    if (token.type == OtpType::hotp) {
        const auto ahead = static_cast<std::uint64_t>(std::max(policy.hotp_window, 0));
        return check_counters(token.secret, token.params.algorithm, token.params.digits, input,
                              token.counter, token.counter + ahead, std::nullopt);
    }
    const std::uint64_t centre = centre_step(token, now);
    const auto span = static_cast<std::uint64_t>(std::max(policy.window, 0));
    return check_counters(token.secret, token.params.algorithm, token.params.digits, input,
                          centre > span ? centre - span : 0, centre + span, token.last_step);
}

// Which edge of the window (centred at `centre`) `step` is at: -1, +1, or 0 for neither.
int edge_of(std::uint64_t step, std::uint64_t centre, std::uint64_t span) {
    if (step == centre + span) return 1;
    return step + span == centre ? -1 : 0;
}

// Two codes in a row at the same edge of a non-zero window mean the token's clock has
// moved by about a step: follow it by one step, within kMaxClockOffsetSeconds. One code at
// the edge is only a code typed as the step turned, and must not narrow the window for
// the next one. Called before the token's replay state records this code.
int nudge_offset(Authenticator& token, std::uint64_t step, const Policy& policy, std::int64_t now) {
    if (token.type != OtpType::totp || policy.window <= 0 || !token.last_step ||
        token.last_used <= 0) {
        return 0;
    }
    const auto span = static_cast<std::uint64_t>(policy.window);
    const int nudge = edge_of(step, centre_step(token, now), span);
    const int previous = edge_of(*token.last_step, centre_step(token, token.last_used), span);
    const std::int64_t moved_seconds = (static_cast<std::int64_t>(token.offset) + nudge) *
                                       static_cast<std::int64_t>(token.params.period);
    if (nudge == 0 || previous != nudge || moved_seconds > kMaxClockOffsetSeconds ||
        moved_seconds < -kMaxClockOffsetSeconds) {
        return 0;
    }
    token.offset += nudge;
    return nudge;
}

Decision record_code(UserState& state, std::size_t index, std::uint64_t step, const Policy& policy,
                     std::int64_t now) {
    Authenticator& token = state.authenticators[index];
    const int nudge = nudge_offset(token, step, policy, now);
    if (token.type == OtpType::hotp) {
        token.counter = step + 1;
    } else {
        token.last_step = step;
    }
    token.last_used = now;
    Decision decision = record_success(state, Verdict::accepted_code);
    decision.authenticator = index;
    decision.offset_nudge = nudge;
    return decision;
}

}  // namespace

bool is_accepted(Verdict verdict) {
    return verdict == Verdict::accepted_code || verdict == Verdict::accepted_recovery;
}

Decision decide(UserState& state, std::string_view input, const Policy& policy, std::int64_t now) {
    if (state.locked_until > now) return Decision{Verdict::locked, false, false};

    // Every authenticator is checked whatever an earlier one gave: the time taken must not
    // tell which one (if any) matched. The first accepted match wins.
    bool accepted = false;
    bool replayed = false;
    std::size_t index = 0;
    std::uint64_t step = 0;
    for (std::size_t i = 0; i < state.authenticators.size(); ++i) {
        const TotpCheck check = check_authenticator(state.authenticators[i], input, policy, now);
        const bool take = check.outcome == TotpCheck::Outcome::accepted && !accepted;
        index = take ? i : index;
        step = take ? check.step : step;
        accepted |= take;
        replayed |= check.outcome == TotpCheck::Outcome::replayed;
    }
    if (accepted) return record_code(state, index, step, policy, now);
    if (replayed) return record_failure(state, Verdict::replayed, policy, now);

    // Imported google-authenticator scratch codes are digits too, so a code-shaped input
    // that did not match is still tried as a recovery code.
    if (const std::optional<SecretString> normalized = normalize_recovery_code(input)) {
        if (const auto index = find_recovery_code(state.recovery, normalized->view())) {
            state.recovery.erase(state.recovery.begin() + static_cast<std::ptrdiff_t>(*index));
            return record_success(state, Verdict::accepted_recovery);
        }
    }
    return record_failure(state, Verdict::wrong, policy, now);
}

Status resync(Authenticator& token, std::string_view code1, std::string_view code2,
              std::int64_t now) {
    const Algorithm algorithm = token.params.algorithm;
    const int digits = token.params.digits;
    if (token.type == OtpType::hotp) {
        const std::optional<std::uint64_t> found =
            find_consecutive_codes(token.secret, algorithm, digits, code1, code2, token.counter,
                                   token.counter + kResyncCounters);
        if (!found) {
            return make_error(Errc::not_found, "the two codes are not consecutive within " +
                                                   std::to_string(kResyncCounters) +
                                                   " counters of the token");
        }
        token.counter = *found + 2;
        return {};
    }
    const std::uint64_t now_step = time_step(now, token.params.period);
    const auto span = static_cast<std::uint64_t>(kMaxClockOffsetSeconds / token.params.period);
    // The second code is the token's now: it may be at most `span` steps from ours.
    const std::uint64_t first = now_step > span + 1 ? now_step - span - 1 : 0;
    const std::optional<std::uint64_t> found = find_consecutive_codes(
        token.secret, algorithm, digits, code1, code2, first, now_step + span - 1);
    if (!found || (token.last_step && *found + 1 <= *token.last_step)) {
        return make_error(Errc::not_found,
                          "the two codes are not consecutive unused codes within " +
                              std::to_string(kMaxClockOffsetSeconds) + " s of this host's clock");
    }
    token.last_step = *found + 1;
    token.offset = static_cast<std::int32_t>(static_cast<std::int64_t>(*found + 1) -
                                             static_cast<std::int64_t>(now_step));
    return {};
}

std::optional<std::string> offset_nudge_line(const Decision& decision, const UserState& state) {
    if (decision.verdict != Verdict::accepted_code || decision.offset_nudge == 0) {
        return std::nullopt;
    }
    const Authenticator& token = state.authenticators[decision.authenticator];
    return "authenticator '" + token.name + "': code at the edge of the window, clock offset now " +
           std::to_string(token.offset) + " steps";
}

}  // namespace totp
