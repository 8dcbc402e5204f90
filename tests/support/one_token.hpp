// SPDX-License-Identifier: Apache-2.0
// Tests of a user with one authenticator reach its secret, parameters and replay state
// through one_token(state): the first use on an empty state adds it as "default" (TOTP),
// as a first enrollment does.
#pragma once

#include <string>

#include "totp/user_state.hpp"

inline totp::Authenticator& one_token(totp::UserState& state) {
    if (state.authenticators.empty()) {
        state.authenticators.emplace_back();
        state.authenticators.back().name = std::string(totp::kDefaultAuthenticatorName);
    }
    return state.authenticators.front();
}

inline const totp::Authenticator& one_token(const totp::UserState& state) {
    return state.authenticators.front();
}
