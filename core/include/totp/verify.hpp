// SPDX-License-Identifier: Apache-2.0
// The second-factor decision: given a user's state and what they typed, decide and update
// the state. The module, totp-verify and totp-resetd reach it through check_and_record
// (attempt.hpp), which holds the store's lock and saves the state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "totp/user_state.hpp"

namespace totp {

struct Policy {
    int window = 1;  // TOTP steps accepted either side of now (the token's offset applied)
    int max_failures = 5;
    int lockout_seconds = 300;
    int hotp_window = 10;  // HOTP counters accepted past the next unused one
};

enum class Verdict {
    accepted_code,      // a code of one authenticator, newer than its last accepted one
    accepted_recovery,  // an unused recovery code, now consumed
    wrong,              // neither a valid code nor an unused recovery code
    replayed,           // a TOTP code for a step already used (counted as a failure)
    locked,             // the user is locked out; the input was not examined
};

struct Decision {
    Verdict verdict = Verdict::wrong;
    bool state_changed = false;    // the caller must save the state before acting on it
    bool lockout_started = false;  // this failure (re)started a lockout
    // accepted_code: which authenticator (index into state.authenticators) matched, and by
    // how many steps (-1, 0, +1) its clock offset was nudged because the code was at the
    // edge of the window.
    std::size_t authenticator = 0;
    int offset_nudge = 0;
};

// Every authenticator's candidate codes (TOTP: the window around now plus its offset; HOTP:
// its next unused counter and hotp_window more) are computed and compared, with no early
// exit, whichever matched; only the matching authenticator's replay state moves (its last
// step, or its counter past the accepted one) and its last use.
// Rate limiting: while now < locked_until nothing is examined and nothing changes.
// A failure increments `failures`; once failures >= max_failures every failure (re)locks
// the user for lockout_seconds. Success resets failures and the lock.
Decision decide(UserState& state, std::string_view input, const Policy& policy, std::int64_t now);

bool is_accepted(Verdict verdict);

// The log line for a clock offset the accepted code moved ("authenticator 'phone': code at
// the edge of the window, clock offset now 2 steps"), or nothing when it did not move: said
// the same by every checker of codes.
std::optional<std::string> offset_nudge_line(const Decision& decision, const UserState& state);

// Resynchronisation from two codes the token showed one after the other. HOTP: searches
// the kResyncCounters counters from the next unused one and sets the counter past the
// second code. TOTP: searches kMaxClockOffsetSeconds either side of now, sets the offset so
// that the second code is now's, and its step as the last used. Errc::not_found if the two
// codes are not consecutive anywhere in that search (or were used already); `token` is
// unchanged then.
inline constexpr std::uint64_t kResyncCounters = 1000;
Status resync(Authenticator& token, std::string_view code1, std::string_view code2,
              std::int64_t now);

}  // namespace totp
