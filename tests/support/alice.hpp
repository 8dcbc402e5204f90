// SPDX-License-Identifier: Apache-2.0
// alice (uid 1001), whom the hardening tests of the module and of totp-verify log in: her
// files under the test's scratch directory (scratch_dir.hpp) in both layouts, the
// enrollment every such test gives her, and what one attempt of hers gave.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "faults.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"

namespace hardening {

inline constexpr std::int64_t kNow = 1'700'000'000;
inline constexpr uid_t kAlice = 1001;
inline constexpr const char* kRecovery = "ABCD-EFGH-JKMN";

// Below the scratch directory: state/ (the default layout's state_dir), home/alice/ (hers,
// 0700; the home layout keeps her state in .totp there) and outside/ (root's own valid state
// file "root", a target for planted links).
std::string state_dir();
std::string home();
std::string outside();
std::string secret_path();  // the home layout's secret_path setting
std::string state_path(bool home_layout);
std::unique_ptr<totp::Store> file_store(bool home_layout);

// A step of setting a test up that must work: otherwise fails the test with `what` and errno.
void must(bool ok, const char* what);
std::string read_file(const std::string& path);

// Her enrollment: one TOTP authenticator (a fixed secret, last used 5 steps before kNow),
// `failures` failed attempts, and the recovery code kRecovery.
totp::UserState enrolled_state(std::uint32_t failures = 0);
// The code her authenticator shows at kNow.
std::string current_code(const totp::UserState& state);

// Empties state/, home/ and outside/ and makes them again (state/ with `state_dir_mode`);
// saves enrolled_state(failures) as alice's in the layout and as root's in outside/.
totp::UserState enroll_anew(bool home_layout, mode_t state_dir_mode, std::uint32_t failures = 0);

// One login (pam_sm_authenticate) or one request to totp-verify, under a fault plan.
struct Attempt {
    int result = -1;        // the PAM return code, or the helper's exit status
    bool accepted = false;  // PAM_SUCCESS, or the helper's "yes"
    faults::Report report;
    std::vector<std::string> log;
    std::vector<int> priorities;
};

// The attempt's log, to stderr, for the message of a failing check.
void print_log(const Attempt& attempt);

}  // namespace hardening
