// SPDX-License-Identifier: Apache-2.0
// totp-verify's decision (verify_helper/answer.cpp) under the module's hardening tests:
//   - every system call it makes (open, read, write, fsync, link, flock, getpwnam_r,
//     getpwuid_r, getgrnam_r, getgrouplist, ...) failing in turn with EIO, ENOSPC, EROFS,
//     EACCES, EINTR or a short transfer (tests/fuzz/faults.hpp): never "yes" after a
//     failed store write, a "yes" has consumed its code on disk, a request that would have
//     been accepted but was not says why at LOG_ERR, retried calls change nothing, the
//     state file still decodes with its secret;
//   - every filesystem attack of tests/support/state_attacks.hpp (symlinks, hard links,
//     FIFOs, sockets, wrong owners and modes at the state path and its directory, in both
//     layouts): refused (exit 3) with the reason, "failing closed" and the caller's uid at
//     LOG_ERR, the planted target untouched, and nothing hangs.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <memory>
#include <string>

#include "alice.hpp"
#include "answer.hpp"
#include "fault_sweep.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "scratch_dir.hpp"
#include "state_attacks.hpp"
#include "totp/otp.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"

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
using totp::HelperExit;

constexpr uid_t kService = 1003;  // in the group "verifiers"
constexpr mode_t kStateDirMode = 0711;

totp::Settings settings_for(bool home_layout) {
    totp::Settings settings;
    settings.state_dir = state_dir();
    if (home_layout) settings.secret_path = secret_path();
    settings.max_failures = 3;
    settings.verify_helper_group = "verifiers";
    return settings;
}

struct Scenario {
    const char* name;
    uid_t caller = kAlice;
    bool home_layout = false;
    std::string code;  // "CODE": the current code
    std::uint32_t failures = 0;
};

Attempt ask(const Scenario& scenario, const totp::UserState& state, const faults::Plan& plan) {
    totp_verify::Request request;
    request.user = "alice";
    request.code.append(scenario.code == "CODE" ? current_code(state) : scenario.code);
    const totp::Settings settings = settings_for(scenario.home_layout);
    Attempt attempt;
    const totp_verify::LogLine log = [&attempt](int priority, const std::string& line) {
        attempt.log.push_back(line);
        attempt.priorities.push_back(priority);
    };
    const std::unique_ptr<totp::Store> store = file_store(scenario.home_layout);
    faults::arm(plan);
    const HelperExit exit =
        totp_verify::answer_request(scenario.caller, request, settings, *store, plan.now, log);
    faults::disarm();
    attempt.result = static_cast<int>(exit);
    attempt.accepted = exit == HelperExit::accepted;
    attempt.report = faults::report();
    return attempt;
}

void sweep(const Scenario& scenario, HelperExit expected) {
    hardening::sweep(
        {.name = scenario.name,
         .home_layout = scenario.home_layout,
         .enroll =
             [&] { return enroll_anew(scenario.home_layout, kStateDirMode, scenario.failures); },
         .attempt = [&](const totp::UserState& state,
                        const faults::Plan& plan) { return ask(scenario, state, plan); }},
        static_cast<int>(expected));
}

void valid_code_of_the_callers_own_account(void**) {
    sweep({.name = "valid code", .code = "CODE"}, HelperExit::accepted);
}

void wrong_code(void**) {
    sweep({.name = "wrong code", .code = "000000"}, HelperExit::refused);
}

void wrong_code_that_starts_a_lockout(void**) {
    sweep({.name = "lockout", .code = "000000", .failures = 2}, HelperExit::refused);
}

void recovery_code(void**) {
    sweep({.name = "recovery code", .code = kRecovery}, HelperExit::accepted);
}

void service_account_in_the_helper_group(void**) {
    sweep({.name = "service account", .caller = kService, .code = "CODE"}, HelperExit::accepted);
}

void valid_code_in_the_home_layout(void**) {
    sweep({.name = "home layout", .home_layout = true, .code = "CODE"}, HelperExit::accepted);
}

// Two codes in a row at the late edge of the window move the clock offset (verify.hpp): that
// changes which codes are accepted from then on, so the helper logs it, as the module does.
void a_clock_offset_nudge_is_logged(void**) {
    const totp::UserState state = enroll_anew(false, kStateDirMode);
    const auto edge_code = [&state](std::int64_t at) {
        auto value = totp::hotp(state.authenticators.front().secret, totp::time_step(at, 30),
                                totp::Algorithm::sha1, 6);
        must(value.ok(), "code");
        return std::string(value->view());
    };
    const Attempt first = ask({.name = "edge", .code = edge_code(kNow + 30)}, state, {{}, kNow});
    assert_int_equal(first.result, static_cast<int>(HelperExit::accepted));
    const Attempt second =
        ask({.name = "edge", .code = edge_code(kNow + 60)}, state, {{}, kNow + 30});
    assert_int_equal(second.result, static_cast<int>(HelperExit::accepted));
    bool said = false;
    for (const std::string& line : second.log) said |= line.find("clock offset now 1") != line.npos;
    if (!said) {
        print_log(second);
        fail_msg("the nudge was not logged");
    }
}

// The filesystem attacks, asked by alice with her valid code: the helper fails (exit 3) and
// names the caller.
void attack_is_refused(void** state) {
    expect_refused(
        *static_cast<const Attack*>(*state),
        {.enroll = [](bool home_layout) { return enroll_anew(home_layout, kStateDirMode); },
         .attempt =
             [](bool home_layout, const totp::UserState& enrolled) {
                 return ask({.name = "attack", .home_layout = home_layout, .code = "CODE"},
                            enrolled, {{}, kNow});
             },
         .refused = static_cast<int>(HelperExit::failed),
         .also_said = {"caller uid 1001"}});
}

int setup(void**) {
    test_support::make_scratch_dir(test_support::tmpfs_or_tmp(), "pam_totp_helper", 0755);
    faults::set_accounts(
        {{"alice", kAlice, kAlice, home(), {}}, {"svc", kService, kService, "/nonexistent", {500}}},
        {{"verifiers", 500}});
    return 0;
}

}  // namespace

int main() {
    if (geteuid() != 0)
        test_support::cannot_run("needs root (root-owned state, files owned by other users)");
    return run_with_attack_tests(
        {
            cmocka_unit_test(valid_code_of_the_callers_own_account),
            cmocka_unit_test(wrong_code),
            cmocka_unit_test(wrong_code_that_starts_a_lockout),
            cmocka_unit_test(recovery_code),
            cmocka_unit_test(service_account_in_the_helper_group),
            cmocka_unit_test(valid_code_in_the_home_layout),
            cmocka_unit_test(a_clock_offset_nudge_is_logged),
        },
        attack_is_refused, setup, test_support::remove_scratch_dir);
}
