// SPDX-License-Identifier: Apache-2.0
#include "totp/attempt.hpp"

#include <memory>

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

}  // namespace totp
