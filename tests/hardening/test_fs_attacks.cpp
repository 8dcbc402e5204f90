// SPDX-License-Identifier: Apache-2.0
// Attacks on the filesystem around the state (tests/support/state_attacks.hpp): symlinks,
// hard links, FIFOs, sockets and directories planted at the state path; wrong owners and
// modes on the file and on its directory; the home layout with a hostile user owning the
// path. Each is refused by a real login (pam_sm_authenticate, with the valid code), with one
// log line at LOG_ERR that says why and "failing closed", and whatever was planted is left
// as it was.
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "alice.hpp"
#include "fake_pam.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "scratch_dir.hpp"
#include "state_attacks.hpp"

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

namespace {

using namespace hardening;

Attempt login(bool home_layout, const totp::UserState& state) {
    pam_handle handle;
    handle.user = "alice";
    handle.answers.emplace_back(current_code(state));
    std::vector<std::string> arguments = {
        "config=" + test_support::scratch_dir() + "/pam_totp.conf", "state_dir=" + state_dir()};
    if (home_layout) arguments.push_back("secret_path=" + secret_path());
    std::vector<const char*> argv;
    for (const auto& a : arguments) argv.push_back(a.c_str());
    faults::arm({{}, kNow});
    const int rc = pam_sm_authenticate(&handle, 0, static_cast<int>(argv.size()), argv.data());
    faults::disarm();
    return {rc, rc == PAM_SUCCESS, faults::report(), handle.log, handle.log_priorities};
}

// Each attack, at a login with the valid code: PAM_AUTH_ERR.
void attack_is_refused(void** state) {
    expect_refused(*static_cast<const Attack*>(*state),
                   {.enroll = [](bool home_layout) { return enroll_anew(home_layout, 0700); },
                    .attempt = login,
                    .refused = PAM_AUTH_ERR,
                    .also_said = {}});
}

int setup(void**) {
    const std::string& root =
        test_support::make_scratch_dir(test_support::tmpfs_or_tmp(), "pam_totp_attacks", 0755);
    std::ofstream(root + "/pam_totp.conf") << "[global]\n";
    faults::set_accounts({{"alice", kAlice, kAlice, home(), {}}}, {});
    return 0;
}

}  // namespace

int main() {
    if (geteuid() != 0)
        test_support::cannot_run("needs root (root-owned state, files owned by other users)");
    return run_with_attack_tests({}, attack_is_refused, setup, test_support::remove_scratch_dir);
}
