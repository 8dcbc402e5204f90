// SPDX-License-Identifier: Apache-2.0
#include "totp/verify.hpp"

#include <optional>

#include "totp/otp.hpp"
#include "totp/recovery.hpp"

namespace totp {
namespace {

Decision record_success(UserState& state, Verdict verdict) {
    state.failures = 0;
    state.locked_until = 0;
    return Decision{verdict, true, false};
}

// The most failures a state file can record (docs/state-format.md). Counting past it would
// make the state unsavable, and a failure that is not saved renews no lockout.
constexpr std::uint32_t kMaxRecordedFailures = 1000000;

Decision record_failure(UserState& state, Verdict verdict, const Policy& policy, std::int64_t now) {
    if (state.failures < kMaxRecordedFailures) ++state.failures;
    const bool lock = state.failures >= static_cast<std::uint32_t>(policy.max_failures);
    if (lock) state.locked_until = now + policy.lockout_seconds;
    return Decision{verdict, true, lock};
}

}  // namespace

bool is_accepted(Verdict verdict) {
    return verdict == Verdict::accepted_code || verdict == Verdict::accepted_recovery;
}

Decision decide(UserState& state, std::string_view input, const Policy& policy, std::int64_t now) {
    if (state.locked_until > now) return Decision{Verdict::locked, false, false};

    const TotpCheck check =
        check_totp(state.secret, state.params, input, now, policy.window, state.last_step);
    if (check.outcome == TotpCheck::Outcome::accepted) {
        state.last_step = check.step;
        return record_success(state, Verdict::accepted_code);
    }
    if (check.outcome == TotpCheck::Outcome::replayed) {
        return record_failure(state, Verdict::replayed, policy, now);
    }

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

}  // namespace totp
