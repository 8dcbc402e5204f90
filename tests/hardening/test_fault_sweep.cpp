// SPDX-License-Identifier: Apache-2.0
// Every failure path of a login, deterministically: for several kinds of login, each system
// call the module makes (open, read, write, fsync, link, flock, getpwnam_r, RAND_bytes ...)
// is made to fail in turn, one at a time, with each kind of failure (tests/fuzz/faults.hpp;
// the checks are tests/support/fault_sweep.hpp's, which totp-verify's test shares). Whatever
// fails: no PAM_SUCCESS after a failed store write, a login that would have
// succeeded but failed says why at LOG_ERR or worse, the state file still decodes with its
// secret, a success has consumed its code on disk, retried calls (EINTR, short reads and
// writes) change nothing, and the process keeps its filesystem identity.
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "alice.hpp"
#include "fake_pam.hpp"
#include "fault_sweep.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "one_token.hpp"
#include "scratch_dir.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"
#include "version_1_file.hpp"

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

struct Scenario {
    const char* name;
    std::vector<std::string> options;
    bool home_layout = false;
    // What is typed / in PAM_AUTHTOK; "CODE" is replaced by the current code.
    std::vector<std::string> answers;
    std::optional<std::string> authtok;
    std::uint32_t failures = 0;
    bool version_1 = false;  // enrolled by an older build: the login's save upgrades the file
};

std::string expand(const std::string& text, const totp::UserState& state) {
    const std::size_t at = text.find("CODE");
    if (at == std::string::npos) return text;
    return text.substr(0, at) + current_code(state) + text.substr(at + 4);
}

// A fresh enrollment for alice (the same secret every time).
totp::UserState enroll(const Scenario& scenario) {
    totp::UserState state = enroll_anew(scenario.home_layout, 0700, scenario.failures);
    if (scenario.version_1) {
        state.recovery.clear();
        std::ofstream(state_path(scenario.home_layout), std::ios::binary)
            << version_1_file(one_token(state).secret, one_token(state).last_step);
        assert_int_equal(chmod(state_path(scenario.home_layout).c_str(), 0600), 0);
    }
    return state;
}

Attempt login(const Scenario& scenario, const totp::UserState& state, const faults::Plan& plan) {
    pam_handle handle;
    handle.user = "alice";
    for (const std::string& answer : scenario.answers)
        handle.answers.emplace_back(expand(answer, state));
    if (scenario.authtok) handle.authtok = expand(*scenario.authtok, state);
    std::vector<std::string> arguments = scenario.options;
    arguments.push_back("config=" + test_support::scratch_dir() + "/pam_totp.conf");
    arguments.push_back("state_dir=" + state_dir());
    if (scenario.home_layout) arguments.push_back("secret_path=" + secret_path());
    std::vector<const char*> argv;
    for (const std::string& a : arguments) argv.push_back(a.c_str());
    // forward_pass only splits; the stack's next pam_totp line (without it) checks.
    std::vector<const char*> check_argv;
    for (const char* a : argv) {
        if (std::string_view(a) != "forward_pass") check_argv.push_back(a);
    }

    faults::arm(plan);
    int rc = pam_sm_authenticate(&handle, 0, static_cast<int>(argv.size()), argv.data());
    if (check_argv.size() != argv.size() && rc == PAM_IGNORE) {
        rc =
            pam_sm_authenticate(&handle, 0, static_cast<int>(check_argv.size()), check_argv.data());
    }
    faults::disarm();
    fake_pam_end(&handle, rc);
    return {rc, rc == PAM_SUCCESS, faults::report(), handle.log, handle.log_priorities};
}

void sweep(const Scenario& scenario, int expected_rc) {
    hardening::sweep(
        {.name = scenario.name,
         .home_layout = scenario.home_layout,
         .enroll = [&] { return enroll(scenario); },
         .attempt = [&](const totp::UserState& state,
                        const faults::Plan& plan) { return login(scenario, state, plan); }},
        expected_rc);
}

int setup(void**) {
    const std::string& root =
        test_support::make_scratch_dir(test_support::tmpfs_or_tmp(), "pam_totp_faults", 0755);
    std::ofstream(root + "/pam_totp.conf") << "[global]\n";
    faults::set_accounts({{"alice", kAlice, kAlice, home(), {}}}, {});
    return 0;
}

// Enrollment through the store (what totp-enroll does): whichever call fails, the save
// reports it and leaves no state file and no temporary file; when it succeeds, the file is
// whole.
void enrollment_with_each_call_failing_leaves_nothing_or_a_whole_file(void**) {
    const std::string dir = state_dir();
    int runs = 0;
    for (std::size_t f = 0; f < faults::kWrappedCallCount; ++f) {
        for (unsigned occurrence = 0; occurrence < 3; ++occurrence) {
            for (faults::Action action : {faults::Action::fail, faults::Action::short_io}) {
                std::filesystem::remove_all(dir);
                assert_int_equal(mkdir(dir.c_str(), 0700), 0);
                const faults::Fault fault{occurrence, faults::kWrappedCalls[f], action, ENOSPC};
                totp::UserState state;
                one_token(state).secret = totp::SecretBytes(20);
                auto store = totp::make_file_store({.state_dir = dir, .secret_path = ""});
                bool saved = false;
                faults::arm({{fault}, kNow});
                {
                    auto record = store->open("carol");
                    saved = record && (*record)->save(state).ok();
                }
                faults::disarm();
                if (faults::report().hits.empty()) continue;
                ++runs;
                const std::string what =
                    std::string("enrollment: ") + fault.only + " #" + std::to_string(occurrence);
                int entries = 0;
                for (const auto& entry : std::filesystem::directory_iterator(dir)) {
                    ++entries;
                    if (entry.path().filename() != "carol")
                        fail_msg("%s: left %s behind", what.c_str(), entry.path().c_str());
                }
                if (saved && (entries != 1 || !totp::decode_file(read_file(dir + "/carol"))))
                    fail_msg("%s: reported saved, but the file is not whole", what.c_str());
                if (!saved && entries != 0)
                    fail_msg("%s: reported a failure, but left a state file", what.c_str());
            }
        }
    }
    std::printf("enrollment: %d fault runs\n", runs);
    assert_true(runs > 10);
}

Scenario scenario(const char* name, std::vector<std::string> options,
                  std::vector<std::string> answers) {
    Scenario made;
    made.name = name;
    made.options = std::move(options);
    made.answers = std::move(answers);
    return made;
}

void valid_code_at_the_prompt(void**) {
    sweep(scenario("valid code", {}, {"CODE"}), PAM_SUCCESS);
}

void wrong_code_at_the_prompt(void**) {
    sweep(scenario("wrong code", {}, {"000000"}), PAM_AUTH_ERR);
}

void wrong_code_that_starts_a_lockout(void**) {
    Scenario lockout = scenario("lockout", {"max_failures=3"}, {"000000"});
    lockout.failures = 2;
    sweep(lockout, PAM_AUTH_ERR);
}

void recovery_code_at_the_prompt(void**) {
    sweep(scenario("recovery code", {}, {kRecovery}), PAM_SUCCESS);
}

void try_first_pass_with_a_wrong_authtok_then_the_right_code(void**) {
    Scenario try_first = scenario("try_first_pass", {"try_first_pass"}, {"CODE"});
    try_first.authtok = "000000";
    sweep(try_first, PAM_SUCCESS);
}

void forward_pass_with_password_and_code(void**) {
    sweep(scenario("forward_pass", {"forward_pass"}, {"secret-pwCODE"}), PAM_SUCCESS);
}

void valid_code_in_the_home_layout(void**) {
    Scenario in_home = scenario("home layout", {}, {"CODE"});
    in_home.home_layout = true;
    sweep(in_home, PAM_SUCCESS);
}

void valid_code_upgrading_a_version_1_file(void**) {
    Scenario upgrade = scenario("version 1 upgrade", {}, {"CODE"});
    upgrade.version_1 = true;
    sweep(upgrade, PAM_SUCCESS);
}

}  // namespace

int main() {
    if (geteuid() != 0)
        test_support::cannot_run("needs root (root-owned state files, the home layout's setfsuid)");
    const CMUnitTest tests[] = {
        cmocka_unit_test(valid_code_at_the_prompt),
        cmocka_unit_test(wrong_code_at_the_prompt),
        cmocka_unit_test(wrong_code_that_starts_a_lockout),
        cmocka_unit_test(recovery_code_at_the_prompt),
        cmocka_unit_test(try_first_pass_with_a_wrong_authtok_then_the_right_code),
        cmocka_unit_test(forward_pass_with_password_and_code),
        cmocka_unit_test(valid_code_in_the_home_layout),
        cmocka_unit_test(valid_code_upgrading_a_version_1_file),
        cmocka_unit_test(enrollment_with_each_call_failing_leaves_nothing_or_a_whole_file),
    };
    return cmocka_run_group_tests(tests, setup, test_support::remove_scratch_dir);
}
