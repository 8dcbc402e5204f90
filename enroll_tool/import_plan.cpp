// SPDX-License-Identifier: Apache-2.0
#include "import_plan.hpp"

#include <algorithm>
#include <iterator>
#include <optional>

#include "totp/otp.hpp"

namespace totp_enroll {
namespace {

bool name_character(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

// The token as an authenticator named `name`, or why the record cannot hold it.
std::optional<std::string> to_authenticator(const ImportedToken& token, std::string name,
                                            std::int64_t now, totp::Authenticator& out) {
    out.name = std::move(name);
    out.params = token.params;
    out.secret = token.secret.clone();
    out.type = token.type;
    if (token.type == totp::OtpType::hotp) {
        out.counter = token.counter;
        return std::nullopt;
    }
    const std::int64_t most_steps = totp::kMaxClockOffsetSeconds / token.params.period;
    if (token.drift_steps > most_steps || token.drift_steps < -most_steps) {
        return "its clock is " + std::to_string(token.drift_steps) + " steps of " +
               std::to_string(token.params.period) + " s off, more than the " +
               std::to_string(totp::kMaxClockOffsetSeconds) + " s pam_totp follows";
    }
    out.offset = static_cast<std::int32_t>(token.drift_steps);
    // A step the source saw used stays used unless it lies ahead of the token's clock
    // (then it is not a plausible past use).
    const std::int64_t token_step =
        static_cast<std::int64_t>(totp::time_step(now, token.params.period)) + out.offset;
    if (token.last_used_step &&
        static_cast<std::int64_t>(*token.last_used_step) <= token_step + 1) {
        out.last_step = token.last_used_step;
    }
    return std::nullopt;
}

ImportDecision decide(const ImportedToken& token, UserImport& user, std::size_t max_authenticators,
                      std::int64_t now) {
    ImportDecision decision{&token, {}, token.skipped};
    if (!decision.not_imported.empty()) return decision;
    const std::string name = user.state.authenticators.empty()
                                 ? std::string(totp::kDefaultAuthenticatorName)
                                 : authenticator_name(token.label, user.state);
    totp::Authenticator authenticator;
    if (auto why = to_authenticator(token, name, now, authenticator)) {
        decision.not_imported = std::move(*why);
        return decision;
    }
    if (totp::Status added =
            totp::add_authenticator(user.state, std::move(authenticator), max_authenticators);
        !added) {
        decision.not_imported = added.error().message;
        return decision;
    }
    decision.name = name;
    return decision;
}

}  // namespace

std::string authenticator_name(std::string_view label, const totp::UserState& state) {
    std::string base;
    for (const char c : label) base.push_back(name_character(c) ? c : '-');
    base.erase(0, base.find_first_not_of('-'));
    if (base.empty()) base = "token";
    base.resize(std::min(base.size(), totp::kMaxAuthenticatorName));
    std::string name = base;
    for (std::size_t number = 2; totp::find_authenticator(state, name) != nullptr; ++number) {
        const std::string suffix = "-" + std::to_string(number);
        name = base.substr(0, totp::kMaxAuthenticatorName - suffix.size()) + suffix;
    }
    return name;
}

std::vector<UserImport> decide_imports(const std::vector<ImportedToken>& tokens,
                                       std::size_t max_authenticators, std::int64_t now) {
    std::vector<UserImport> users;
    for (const ImportedToken& token : tokens) {
        auto user = std::find_if(users.begin(), users.end(),
                                 [&](const UserImport& u) { return u.user == token.user; });
        if (user == users.end()) {
            users.push_back({token.user, {}, {}});
            users.back().state.created = now;
            user = std::prev(users.end());
        }
        user->decisions.push_back(decide(token, *user, max_authenticators, now));
    }
    return users;
}

}  // namespace totp_enroll
