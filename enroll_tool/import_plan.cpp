// SPDX-License-Identifier: Apache-2.0
#include "import_plan.hpp"

#include <set>

#include "totp/otp.hpp"

namespace totp_enroll {

std::vector<ImportDecision> decide_imports(const std::vector<ImportedToken>& tokens) {
    std::vector<ImportDecision> decisions;
    std::set<std::string> stored_users;
    for (const ImportedToken& token : tokens) {
        ImportDecision decision{&token, {}};
        if (!token.skipped.empty()) {
            decision.not_imported = token.skipped;
        } else if (token.type == TokenType::hotp) {
            decision.not_imported = "a counter-based (HOTP) token (next counter " +
                                    std::to_string(token.counter) +
                                    "); this version stores only one time-based secret per user";
        } else if (token.drift_steps != 0) {
            decision.not_imported = "its clock is " + std::to_string(token.drift_steps) +
                                    " steps off; this version stores no clock offset";
        } else if (stored_users.contains(token.user)) {
            decision.not_imported =
                "a second authenticator for this user; this version stores only one";
        } else {
            stored_users.insert(token.user);
        }
        decisions.push_back(std::move(decision));
    }
    return decisions;
}

totp::UserState initial_state(const ImportedToken& token, std::int64_t now) {
    totp::Authenticator authenticator;
    authenticator.name = std::string(totp::kDefaultAuthenticatorName);
    authenticator.params = token.params;
    authenticator.secret = token.secret.clone();
    const std::uint64_t now_step = totp::time_step(now, token.params.period);
    if (token.last_used_step && *token.last_used_step <= now_step + 1) {
        authenticator.last_step = token.last_used_step;
    }
    totp::UserState state;
    state.authenticators.push_back(std::move(authenticator));
    state.created = now;
    return state;
}

}  // namespace totp_enroll
