// SPDX-License-Identifier: Apache-2.0
// totp-verify's decision (verify_helper/answer.cpp) under the module's hardening tests:
//   - every system call it makes (open, read, write, fsync, link, flock, getpwnam_r,
//     getpwuid_r, getgrnam_r, getgrouplist, ...) failing in turn with EIO, ENOSPC, EROFS,
//     EACCES, EINTR or a short transfer (tests/fuzz/faults.hpp): never "yes" after a
//     failed store write, a "yes" has consumed its code on disk, a request that would have
//     been accepted but was not says why at LOG_ERR, retried calls change nothing, the
//     state file still decodes with its secret;
//   - symlinks, hard links, FIFOs, wrong owners and modes at the state path and its
//     directory, in both layouts: refused (exit 3) with the reason and "failing closed" at
//     LOG_ERR, the planted target untouched, and nothing hangs.
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "answer.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "totp/otp.hpp"
#include "totp/recovery.hpp"
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

using totp::HelperExit;

constexpr std::int64_t kNow = 1'700'000'000;
constexpr uid_t kAlice = 1001;
constexpr uid_t kService = 1003;  // in the group "verifiers"
constexpr const char* kRecovery = "ABCD-EFGH-JKMN";

std::string g_root;

std::string state_dir() {
    return g_root + "/state";
}
std::string home() {
    return g_root + "/home/alice";
}
std::string outside() {
    return g_root + "/outside";
}
std::string state_path(bool home_layout) {
    return home_layout ? home() + "/.totp" : state_dir() + "/alice";
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

void must(bool ok, const char* what) {
    if (!ok) fail_msg("setting up: %s: %s", what, std::strerror(errno));
}

totp::Settings settings_for(bool home_layout) {
    totp::Settings settings;
    settings.state_dir = state_dir();
    if (home_layout) settings.secret_path = g_root + "/home/%u/.totp";
    settings.max_failures = 3;
    settings.verify_helper_group = "verifiers";
    return settings;
}

std::unique_ptr<totp::Store> store_for(bool home_layout) {
    const totp::Settings settings = settings_for(home_layout);
    return totp::make_file_store(
        {.state_dir = settings.state_dir, .secret_path = settings.secret_path});
}

// A fresh enrollment for alice (the same secret every time) and a valid root-owned state
// file outside, as a target for planted links.
totp::UserState enroll(bool home_layout, std::uint32_t failures = 0) {
    std::filesystem::remove_all(state_dir());
    std::filesystem::remove_all(g_root + "/home");
    std::filesystem::remove_all(outside());
    must(mkdir(state_dir().c_str(), 0711) == 0, "mkdir state");
    must(mkdir((g_root + "/home").c_str(), 0755) == 0, "mkdir home");
    must(mkdir(home().c_str(), 0700) == 0 && chown(home().c_str(), kAlice, kAlice) == 0, "home");
    must(mkdir(outside().c_str(), 0700) == 0, "mkdir outside");
    totp::Authenticator token;
    token.name = std::string(totp::kDefaultAuthenticatorName);
    token.params = {totp::Algorithm::sha1, 6, 30};
    token.secret = totp::SecretBytes(20);
    for (std::size_t i = 0; i < 20; ++i)
        token.secret.data()[i] = static_cast<std::uint8_t>(i * 5 + 3);
    token.last_step = totp::time_step(kNow, 30) - 5;
    totp::UserState state;
    state.authenticators.push_back(std::move(token));
    state.failures = failures;
    auto hash = totp::hash_recovery_code(totp::normalize_recovery_code(kRecovery)->view());
    must(hash.ok(), "recovery hash");
    state.recovery.push_back(*hash);
    auto record = store_for(home_layout)->open("alice");
    must(record.ok(), record ? "" : record.error().message.c_str());
    must((*record)->save(state).ok(), "save");
    auto other = totp::make_file_store({.state_dir = outside(), .secret_path = ""})->open("root");
    must(other.ok() && (*other)->save(state).ok(), "outside state");
    must(chmod(outside().c_str(), 0755) == 0, "chmod outside");
    return state;
}

std::string current_code(const totp::UserState& state) {
    auto code = totp::hotp(state.authenticators.front().secret, totp::time_step(kNow, 30),
                           totp::Algorithm::sha1, 6);
    must(code.ok(), "code");
    return std::string(code->view());
}

struct Outcome {
    HelperExit exit = HelperExit::failed;
    faults::Report report;
    std::vector<std::string> log;
    std::vector<int> priorities;
};

struct Scenario {
    const char* name;
    uid_t caller = kAlice;
    bool home_layout = false;
    std::string code;  // "CODE": the current code
    std::uint32_t failures = 0;
};

Outcome ask(const Scenario& scenario, const totp::UserState& state, const faults::Plan& plan) {
    totp_verify::Request request;
    request.user = "alice";
    request.code.append(scenario.code == "CODE" ? current_code(state) : scenario.code);
    const totp::Settings settings = settings_for(scenario.home_layout);
    Outcome outcome;
    const totp_verify::LogLine log = [&outcome](int priority, const std::string& line) {
        outcome.log.push_back(line);
        outcome.priorities.push_back(priority);
    };
    const std::unique_ptr<totp::Store> store = store_for(scenario.home_layout);
    faults::arm(plan);
    outcome.exit =
        totp_verify::answer_request(scenario.caller, request, settings, *store, plan.now, log);
    faults::disarm();
    outcome.report = faults::report();
    return outcome;
}

bool retried_call(const faults::Fault& fault) {
    const std::string name = fault.only;
    if (fault.action == faults::Action::short_io) return name == "pread" || name == "pwrite";
    if (fault.action == faults::Action::interrupt)
        return name == "pread" || name == "pwrite" || name == "flock";
    return false;
}

bool logged_an_error(const Outcome& outcome) {
    for (int priority : outcome.priorities) {
        if (priority <= LOG_ERR) return true;
    }
    return false;
}

void check_one_fault(const Scenario& scenario, const totp::UserState& state,
                     const Outcome& baseline, const Outcome& outcome, const std::string& what) {
    std::ifstream in(state_path(scenario.home_layout), std::ios::binary);
    const auto after = totp::decode_file(std::string{std::istreambuf_iterator<char>(in), {}});
    if (!after) fail_msg("%s: state file no longer decodes", what.c_str());
    const totp::UserState& now = after->state;
    const totp::SecretBytes& secret = state.authenticators.front().secret;
    if (now.authenticators.size() != 1 ||
        now.authenticators.front().secret.size() != secret.size() ||
        !std::equal(secret.data(), secret.data() + secret.size(),
                    now.authenticators.front().secret.data()))
        fail_msg("%s: secret changed", what.c_str());
    if (outcome.exit == HelperExit::accepted) {
        if (outcome.report.write_failed)
            fail_msg("%s: yes although the store write failed", what.c_str());
        const bool consumed =
            now.authenticators.front().last_step > state.authenticators.front().last_step ||
            now.recovery.size() < state.recovery.size();
        if (!consumed || now.failures != 0)
            fail_msg("%s: yes but nothing consumed on disk", what.c_str());
    }
    if (baseline.exit == HelperExit::accepted && outcome.exit != HelperExit::accepted &&
        !logged_an_error(outcome))
        fail_msg("%s: refused without an error in the log", what.c_str());
    if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != geteuid())
        fail_msg("%s: filesystem identity not restored", what.c_str());
}

std::string describe(const Scenario& scenario, const faults::Fault& fault) {
    const char* action = fault.action == faults::Action::short_io    ? "short transfer"
                         : fault.action == faults::Action::interrupt ? "EINTR"
                                                                     : strerrorname_np(fault.error);
    return std::string(scenario.name) + ": call " + std::to_string(fault.call) + " of " +
           fault.only + " -> " + action;
}

void sweep(const Scenario& scenario, HelperExit expected) {
    totp::UserState state = enroll(scenario.home_layout, scenario.failures);
    const Outcome baseline = ask(scenario, state, {{}, kNow});
    if (baseline.exit != expected) {
        for (const auto& line : baseline.log) std::fprintf(stderr, "log: %s\n", line.c_str());
        fail_msg("%s: exit %d without faults, expected %d", scenario.name,
                 static_cast<int>(baseline.exit), static_cast<int>(expected));
    }
    const faults::Action actions[] = {faults::Action::fail, faults::Action::interrupt,
                                      faults::Action::short_io};
    const int errors[] = {EIO, ENOSPC, EROFS, EACCES};
    int runs = 0;
    for (std::size_t f = 0; f < faults::kWrappedCallCount; ++f) {
        for (unsigned occurrence = 0; occurrence < 3; ++occurrence) {
            for (faults::Action action : actions) {
                for (int error : errors) {
                    if (action != faults::Action::fail && error != EIO) continue;
                    const faults::Fault fault{occurrence, faults::kWrappedCalls[f], action, error};
                    state = enroll(scenario.home_layout, scenario.failures);
                    const Outcome outcome = ask(scenario, state, {{fault}, kNow});
                    if (outcome.report.hits.empty()) continue;  // no such call
                    ++runs;
                    const std::string what = describe(scenario, fault);
                    check_one_fault(scenario, state, baseline, outcome, what);
                    if (retried_call(fault) && outcome.exit != baseline.exit)
                        fail_msg("%s: a retried call changed the answer", what.c_str());
                }
            }
        }
    }
    std::printf("%s: %d fault runs\n", scenario.name, runs);
    assert_true(runs > 10);
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
    const totp::UserState state = enroll(false);
    const auto edge_code = [&state](std::int64_t at) {
        auto value = totp::hotp(state.authenticators.front().secret, totp::time_step(at, 30),
                                totp::Algorithm::sha1, 6);
        must(value.ok(), "code");
        return std::string(value->view());
    };
    const Outcome first = ask({.name = "edge", .code = edge_code(kNow + 30)}, state, {{}, kNow});
    assert_int_equal(static_cast<int>(first.exit), static_cast<int>(HelperExit::accepted));
    const Outcome second =
        ask({.name = "edge", .code = edge_code(kNow + 60)}, state, {{}, kNow + 30});
    assert_int_equal(static_cast<int>(second.exit), static_cast<int>(HelperExit::accepted));
    bool said = false;
    for (const std::string& line : second.log) said |= line.find("clock offset now 1") != line.npos;
    if (!said) {
        for (const auto& line : second.log) std::fprintf(stderr, "log: %s\n", line.c_str());
        fail_msg("the nudge was not logged");
    }
}

// --- Filesystem attacks ------------------------------------------------------------------

void expect_refused(bool home_layout, const std::function<void()>& attack, const char* reason) {
    const Scenario valid{.name = "attack", .home_layout = home_layout, .code = "CODE"};
    totp::UserState state = enroll(home_layout);
    assert_int_equal(static_cast<int>(ask(valid, state, {{}, kNow}).exit),
                     static_cast<int>(HelperExit::accepted));  // the enrollment itself is good
    state = enroll(home_layout);
    attack();
    const std::string planted_target = read_file(outside() + "/root");
    const Outcome outcome = ask(valid, state, {{}, kNow});
    bool said = false;
    for (std::size_t i = 0; i < outcome.log.size(); ++i) {
        said |= outcome.priorities[i] <= LOG_ERR &&
                outcome.log[i].find(reason) != std::string::npos &&
                outcome.log[i].find("failing closed") != std::string::npos &&
                outcome.log[i].find("caller uid 1001") != std::string::npos;
    }
    if (outcome.exit != HelperExit::failed || !said) {
        for (const auto& line : outcome.log) std::fprintf(stderr, "log: %s\n", line.c_str());
        fail_msg("exit %d; expected 3 and a LOG_ERR line with '%s'", static_cast<int>(outcome.exit),
                 reason);
    }
    if (read_file(outside() + "/root") != planted_target)
        fail_msg("the attack's target was written");
}

void replace_with_symlink(const std::string& path, const std::string& target) {
    must(unlink(path.c_str()) == 0 && symlink(target.c_str(), path.c_str()) == 0, "symlink");
}

void symlink_at_the_state_path_is_refused(void**) {
    expect_refused(
        false, [] { replace_with_symlink(state_path(false), outside() + "/root"); },
        "is a symlink");
}

void hard_link_to_the_state_file_is_refused(void**) {
    expect_refused(
        false,
        [] { must(link(state_path(false).c_str(), (outside() + "/second").c_str()) == 0, "link"); },
        "hard links");
}

void fifo_at_the_state_path_is_refused_without_hanging(void**) {
    expect_refused(
        false,
        [] {
            must(unlink(state_path(false).c_str()) == 0 &&
                     mkfifo(state_path(false).c_str(), 0600) == 0,
                 "fifo");
        },
        "is a FIFO");
}

void world_readable_state_file_is_refused(void**) {
    expect_refused(
        false, [] { must(chmod(state_path(false).c_str(), 0604) == 0, "chmod"); },
        "world-readable");
}

void state_file_owned_by_a_user_is_refused(void**) {
    expect_refused(
        false, [] { must(chown(state_path(false).c_str(), kAlice, kAlice) == 0, "chown"); },
        "owned by uid 1001");
}

void state_directory_owned_by_a_user_is_refused(void**) {
    expect_refused(
        false, [] { must(chown(state_dir().c_str(), kAlice, kAlice) == 0, "chown"); },
        "owned by uid 1001");
}

void symlinked_state_directory_is_refused(void**) {
    expect_refused(
        false,
        [] {
            std::filesystem::rename(state_dir(), g_root + "/real-state");
            must(symlink((g_root + "/real-state").c_str(), state_dir().c_str()) == 0, "symlink");
        },
        "is a symlink");
    std::filesystem::remove_all(g_root + "/real-state");
}

void home_symlink_to_a_root_owned_file_is_refused(void**) {
    expect_refused(
        true, [] { replace_with_symlink(state_path(true), outside() + "/root"); }, "symlink");
}

void home_directory_owned_by_another_user_is_refused(void**) {
    expect_refused(
        true, [] { must(chown(home().c_str(), kService, kService) == 0, "chown"); },
        "owned by uid 1003");
}

int setup(void**) {
    std::string root = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                       "/pam_totp_helper.XXXXXX";
    assert_non_null(mkdtemp(root.data()));
    g_root = root;
    assert_int_equal(chmod(root.c_str(), 0755), 0);
    faults::set_accounts(
        {{"alice", kAlice, kAlice, home(), {}}, {"svc", kService, kService, "/nonexistent", {500}}},
        {{"verifiers", 500}});
    return 0;
}

int teardown(void**) {
    std::filesystem::remove_all(g_root);
    return 0;
}

}  // namespace

int main() {
    if (geteuid() != 0)
        test_support::cannot_run("needs root (root-owned state, files owned by other users)");
    const CMUnitTest tests[] = {
        cmocka_unit_test(valid_code_of_the_callers_own_account),
        cmocka_unit_test(wrong_code),
        cmocka_unit_test(wrong_code_that_starts_a_lockout),
        cmocka_unit_test(recovery_code),
        cmocka_unit_test(service_account_in_the_helper_group),
        cmocka_unit_test(valid_code_in_the_home_layout),
        cmocka_unit_test(a_clock_offset_nudge_is_logged),
        cmocka_unit_test(symlink_at_the_state_path_is_refused),
        cmocka_unit_test(hard_link_to_the_state_file_is_refused),
        cmocka_unit_test(fifo_at_the_state_path_is_refused_without_hanging),
        cmocka_unit_test(world_readable_state_file_is_refused),
        cmocka_unit_test(state_file_owned_by_a_user_is_refused),
        cmocka_unit_test(state_directory_owned_by_a_user_is_refused),
        cmocka_unit_test(symlinked_state_directory_is_refused),
        cmocka_unit_test(home_symlink_to_a_root_owned_file_is_refused),
        cmocka_unit_test(home_directory_owned_by_another_user_is_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
