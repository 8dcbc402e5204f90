// SPDX-License-Identifier: Apache-2.0
// One typed code checked against a user's record and recorded: the step the PAM module and
// the setuid helper totp-verify share, so a code checked either way meets the same rate
// limit, lockout and replay protection.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "totp/config.hpp"
#include "totp/result.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"
#include "totp/verify.hpp"

namespace totp {

struct Attempt {
    enum class Stage {
        checked,       // decision holds the verdict, state the record as saved
        not_opened,    // the record could not be opened or locked (error says why)
        not_enrolled,  // the record was removed since the caller looked
        not_recorded,  // the changed state could not be saved (error says why): not a success
    };
    Stage stage = Stage::not_opened;
    Error error{Errc::io, {}};
    Decision decision;
    UserState state;
};

// The rate limit, lockout and look-ahead of `settings`. totp-verify and totp-resetd take them
// from the configuration file alone; the module from the file and then its stack line's
// arguments, which may change window, hotp_window, max_failures and lockout_seconds for that
// line only. The file is the policy all of them share.
Policy login_policy(const Settings& settings);

// Opens and locks `user`'s record, decides on `input` (verify.hpp) and saves the changed
// state before returning: a verdict is only reported once the attempt is durable.
Attempt check_and_record(Store& store, std::string_view user, std::string_view input,
                         const Policy& policy, std::int64_t now);

// One line for the log: syslog's priority (LOG_NOTICE, ...) and the text.
struct AttemptLine {
    int priority = 0;
    std::string text;
};

// What an attempt that reached Stage::checked says in the log, in order, worded the same
// whoever checked the code: fail2ban's filter (packaging/fail2ban/filter.d/pam_totp.conf)
// matches the refusals word for word. The caller adds whom it concerns (user, service,
// remote host).
//   accepted_code      "accepted verification code" (info), then offset_nudge_line (notice)
//   accepted_recovery  "accepted recovery code (3 left)" (notice)
//   locked             "refused: locked out for another 40 s" (notice)
//   replayed           "refused replayed verification code (time step already used)" (warning)
//   wrong              "wrong verification code" (notice)
// A failure that (re)started a lockout adds "locked out for 300 s (5 consecutive failures)"
// (warning). With `debug`, lines at LOG_DEBUG name the authenticator that matched or count
// the failures.
std::vector<AttemptLine> attempt_log_lines(const Attempt& attempt, const Policy& policy,
                                           std::int64_t now, bool debug);

}  // namespace totp
