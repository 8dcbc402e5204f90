// SPDX-License-Identifier: Apache-2.0
// Builds a valid UserState from fuzz input (so targets reach the logic behind the parser),
// with recovery codes the harness knows, and the code the state accepts at a given time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "totp/user_state.hpp"
#include "totp/verify.hpp"

namespace fuzz {

// Recovery codes the built states may hold (normalized form, as typed).
extern const char* const kRecoveryCodes[4];

struct BuiltState {
    totp::UserState state;
    std::vector<int> recovery;  // which of kRecoveryCodes are stored, in order
};

// Times stay within what a real clock can show (and what the state format allows).
inline constexpr std::int64_t kMinTime = 0;
inline constexpr std::int64_t kMaxTime = std::int64_t{1} << 40;

BuiltState build_state(Input& input, std::int64_t now);

// The code for the step `offset` steps from now.
std::string code_for(const totp::UserState& state, std::int64_t now, int offset);

// What a typed answer may be: a code near now, a stored or unknown recovery code, or raw.
std::string make_answer(Input& input, const totp::UserState& state, std::int64_t now);

// Independent check of what decide() may accept: a code for a step in the window newer
// than last_step, or a stored recovery code; nothing while locked.
bool acceptable(const totp::UserState& before, const std::string& answer, std::int64_t now,
                int window);

// More authenticators for a built state, from the input: maybe a clock offset for the
// first, then up to two more (an HOTP token at some counter, or a TOTP app of its own).
void add_authenticators(Input& input, totp::UserState& state, std::int64_t now);

// The code of `token` for counter `counter` (a TOTP step is a counter); "" if none.
std::string token_code(const totp::Authenticator& token, std::int64_t counter);

// What make_answer gives, or a code of any authenticator near where it is accepted.
std::string make_token_answer(Input& input, const totp::UserState& state, std::int64_t now,
                              const totp::Policy& policy);

// Independent check of what decide() may accept with several authenticators: a code of any
// of them that is fresh within its window (TOTP: the steps around now plus its offset,
// newer than its last step; HOTP: its next counter and hotp_window more), or a stored
// recovery code; nothing while locked.
bool acceptable_with_tokens(const totp::UserState& before, const std::string& answer,
                            std::int64_t now, const totp::Policy& policy);

}  // namespace fuzz
