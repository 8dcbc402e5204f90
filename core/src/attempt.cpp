// SPDX-License-Identifier: Apache-2.0
#include "totp/attempt.hpp"

#include <syslog.h>

#include <memory>
#include <optional>
#include <utility>

namespace totp {

Policy login_policy(const Settings& settings) {
    return Policy{settings.window, settings.max_failures, settings.lockout_seconds,
                  settings.hotp_window};
}

Attempt check_and_record(Store& store, std::string_view user, std::string_view input,
                         const Policy& policy, std::int64_t now) {
    Attempt attempt;
    Result<std::unique_ptr<Record>> record = store.open(user);
    if (!record) {
        attempt.error = record.error();
        return attempt;
    }
    if (!(*record)->state()) {
        attempt.stage = Attempt::Stage::not_enrolled;
        return attempt;
    }
    attempt.state = (*record)->state()->clone();
    attempt.decision = decide(attempt.state, input, policy, now);
    if (attempt.decision.state_changed) {
        if (const Status saved = (*record)->save(attempt.state); !saved) {
            attempt.stage = Attempt::Stage::not_recorded;
            attempt.error = saved.error();
            return attempt;
        }
    }
    attempt.stage = Attempt::Stage::checked;
    return attempt;
}

std::vector<AttemptLine> attempt_log_lines(const Attempt& attempt, const Policy& policy,
                                           std::int64_t now, bool debug) {
    const Decision& decision = attempt.decision;
    const UserState& state = attempt.state;
    std::vector<AttemptLine> lines;
    switch (decision.verdict) {
        case Verdict::accepted_code:
            lines.push_back({LOG_INFO, "accepted verification code"});
            if (debug) {
                lines.push_back({LOG_DEBUG, "code from authenticator '" +
                                                state.authenticators[decision.authenticator].name +
                                                "'"});
            }
            if (std::optional<std::string> nudge = offset_nudge_line(decision, state)) {
                lines.push_back({LOG_NOTICE, std::move(*nudge)});
            }
            return lines;
        case Verdict::accepted_recovery:
            lines.push_back({LOG_NOTICE, "accepted recovery code (" +
                                             std::to_string(state.recovery.size()) + " left)"});
            return lines;
        case Verdict::locked:
            lines.push_back({LOG_NOTICE, "refused: locked out for another " +
                                             std::to_string(state.locked_until - now) + " s"});
            return lines;
        case Verdict::replayed:
            lines.push_back(
                {LOG_WARNING, "refused replayed verification code (time step already used)"});
            break;
        case Verdict::wrong:
            lines.push_back({LOG_NOTICE, "wrong verification code"});
            break;
    }
    const std::string count = "(" + std::to_string(state.failures) + " consecutive failures)";
    if (decision.lockout_started) {
        lines.push_back({LOG_WARNING, "locked out for " + std::to_string(policy.lockout_seconds) +
                                          " s " + count});
    } else if (debug) {
        lines.push_back({LOG_DEBUG, "failure recorded " + count});
    }
    return lines;
}

}  // namespace totp
