// SPDX-License-Identifier: Apache-2.0
// The one place that knows what the store can hold of what the importers read: every
// importable token of a user becomes one authenticator of that user's record (HOTP with
// its next counter, TOTP with its clock offset), the first named "default" so that
// self-service re-enrollment replaces it, the others named after their label. A token the
// record cannot hold (an offset out of range, a secret it has already, one more than
// max_authenticators) is reported, one line each, and the user's other tokens are stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "import_formats.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {

struct ImportDecision {
    const ImportedToken* token = nullptr;
    std::string name;          // the authenticator it becomes; empty when it is not stored
    std::string not_imported;  // why it is not stored; empty: it is
};

// What one user of the source gets: the record to write in one save (no authenticator:
// nothing to write) and a decision per token of that user, in source order.
struct UserImport {
    std::string user;  // as the source spells it
    std::vector<ImportDecision> decisions;
    totp::UserState state;
};

// Groups the tokens by `user` as spelled (in order of first appearance) and decides each.
// The command maps each user to an account and leaves alone accounts enrolled already.
std::vector<UserImport> decide_imports(const std::vector<ImportedToken>& tokens,
                                       std::size_t max_authenticators, std::int64_t now);

// A valid authenticator name made of `label` (other characters become '-'), unused in
// `state`: a suffix "-2", "-3", ... when it is taken.
std::string authenticator_name(std::string_view label, const totp::UserState& state);

}  // namespace totp_enroll
