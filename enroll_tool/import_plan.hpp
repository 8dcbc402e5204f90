// SPDX-License-Identifier: Apache-2.0
// The one place that knows what the store can hold of what the importers read. Today a
// user has one time-based secret: per user the first importable TOTP token is stored, and
// every other token (HOTP, a second authenticator, a clock offset) is reported, one line
// each, and changes nothing. When the store holds several authenticators per user, this
// file is what changes; the parsers and the commands stay as they are.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "import_formats.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {

struct ImportDecision {
    const ImportedToken* token = nullptr;
    std::string not_imported;  // why it is not stored; empty: store it
};

// One decision per token, in order. Tokens are grouped by `user` as spelled; the command
// maps each user to an account and leaves alone accounts enrolled already.
std::vector<ImportDecision> decide_imports(const std::vector<ImportedToken>& tokens);

// The state a stored token starts with at `now`. A step the source saw used stays used
// unless it lies in the future (then it is not a plausible past use).
totp::UserState initial_state(const ImportedToken& token, std::int64_t now);

}  // namespace totp_enroll
