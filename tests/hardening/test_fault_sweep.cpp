// SPDX-License-Identifier: Apache-2.0
// Every failure path of a login, deterministically: for several kinds of login, each system
// call the module makes (open, read, write, fsync, link, flock, getpwnam_r, RAND_bytes ...)
// is made to fail in turn, one at a time, with each kind of failure (tests/fuzz/faults.hpp).
// Whatever fails: no PAM_SUCCESS after a failed store write, a login that would have
// succeeded but failed says why at LOG_ERR or worse, the state file still decodes with its
// secret, a success has consumed its code on disk, retried calls (EINTR, short reads and
// writes) change nothing, and the process keeps its filesystem identity.
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "one_token.hpp"
#include "totp/otp.hpp"
#include "totp/recovery.hpp"
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

constexpr std::int64_t kNow = 1'700'000'000;
constexpr uid_t kAlice = 1001;
constexpr const char* kRecovery = "ABCD-EFGH-JKMN";

std::string g_root;

std::string state_dir() {
    return g_root + "/state";
}
std::string home() {
    return g_root + "/home/alice";
}

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

std::string current_code(const totp::UserState& state) {
    auto code =
        totp::hotp(one_token(state).secret, totp::time_step(kNow, 30), totp::Algorithm::sha1, 6);
    assert_true(code.ok());
    return std::string(code->view());
}

std::string expand(const std::string& text, const totp::UserState& state) {
    const std::size_t at = text.find("CODE");
    if (at == std::string::npos) return text;
    return text.substr(0, at) + current_code(state) + text.substr(at + 4);
}

std::unique_ptr<totp::Store> store_for(const Scenario& scenario) {
    return totp::make_file_store(
        {.state_dir = state_dir(),
         .secret_path = scenario.home_layout ? g_root + "/home/%u/.totp" : ""});
}

std::string state_path(const Scenario& scenario) {
    return scenario.home_layout ? home() + "/.totp" : state_dir() + "/alice";
}

// A fresh enrollment for alice (the same secret every time).
totp::UserState enroll(const Scenario& scenario) {
    std::filesystem::remove(state_path(scenario));
    totp::UserState state;
    one_token(state).secret = totp::SecretBytes(20);
    for (std::size_t i = 0; i < 20; ++i)
        one_token(state).secret.data()[i] = static_cast<std::uint8_t>(i * 7 + 1);
    one_token(state).last_step = totp::time_step(kNow, 30) - 5;
    state.failures = scenario.failures;
    auto hash = totp::hash_recovery_code(totp::normalize_recovery_code(kRecovery)->view());
    assert_true(hash.ok());
    state.recovery.push_back(*hash);
    if (scenario.version_1) {
        state.recovery.clear();
        std::ofstream(state_path(scenario), std::ios::binary)
            << version_1_file(one_token(state).secret, one_token(state).last_step);
        assert_int_equal(chmod(state_path(scenario).c_str(), 0600), 0);
        return state;
    }
    auto record = store_for(scenario)->open("alice");
    assert_true(record.ok());
    assert_true((*record)->save(state).ok());
    return state;
}

std::optional<totp::UserState> read_state(const Scenario& scenario) {
    std::ifstream in(state_path(scenario), std::ios::binary);
    const std::string bytes{std::istreambuf_iterator<char>(in), {}};
    auto decoded = totp::decode_file(bytes);
    if (!decoded) return std::nullopt;
    return std::move(decoded->state);
}

struct Outcome {
    int rc = -1;
    faults::Report report;
    std::vector<std::string> log;
    std::vector<int> priorities;
};

Outcome login(const Scenario& scenario, const totp::UserState& state, const faults::Plan& plan) {
    pam_handle handle;
    handle.user = "alice";
    for (const std::string& answer : scenario.answers)
        handle.answers.emplace_back(expand(answer, state));
    if (scenario.authtok) handle.authtok = expand(*scenario.authtok, state);
    std::vector<std::string> arguments = scenario.options;
    arguments.push_back("config=" + g_root + "/pam_totp.conf");
    arguments.push_back("state_dir=" + state_dir());
    if (scenario.home_layout) arguments.push_back("secret_path=" + g_root + "/home/%u/.totp");
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
    return {rc, faults::report(), handle.log, handle.log_priorities};
}

bool retried_call(const faults::Fault& fault) {
    // Transfers and flock are retried on EINTR, and transfers continue after a short one.
    const std::string name = fault.only;
    if (fault.action == faults::Action::short_io) return name == "pread" || name == "pwrite";
    if (fault.action == faults::Action::interrupt)
        return name == "pread" || name == "pwrite" || name == "flock";
    return false;
}

std::string describe(const Scenario& scenario, const faults::Fault& fault) {
    const char* action = fault.action == faults::Action::short_io    ? "short transfer"
                         : fault.action == faults::Action::interrupt ? "EINTR"
                                                                     : strerrorname_np(fault.error);
    return std::string(scenario.name) + ": call " + std::to_string(fault.call) + " of " +
           fault.only + " -> " + action;
}

// Runs the scenario without faults, then once per (function, occurrence, failure kind).
void sweep(const Scenario& scenario, int expected_rc) {
    totp::UserState state = enroll(scenario);
    const Outcome baseline = login(scenario, state, {{}, kNow});
    if (baseline.rc != expected_rc) {
        for (const auto& line : baseline.log) std::fprintf(stderr, "log: %s\n", line.c_str());
        fail_msg("%s: rc %d without faults, expected %d", scenario.name, baseline.rc, expected_rc);
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
                    state = enroll(scenario);
                    const Outcome outcome = login(scenario, state, {{fault}, kNow});
                    if (outcome.report.hits.empty()) continue;  // no such call
                    ++runs;
                    const std::string what = describe(scenario, fault);
                    const auto after = read_state(scenario);
                    if (!after) fail_msg("%s: state file no longer decodes", what.c_str());
                    if (one_token(*after).secret.size() != one_token(state).secret.size() ||
                        !std::equal(one_token(state).secret.data(),
                                    one_token(state).secret.data() + one_token(state).secret.size(),
                                    one_token(*after).secret.data()))
                        fail_msg("%s: secret changed", what.c_str());
                    if (outcome.rc == PAM_SUCCESS) {
                        if (outcome.report.write_failed)
                            fail_msg("%s: PAM_SUCCESS although the store write failed",
                                     what.c_str());
                        const bool consumed =
                            (one_token(*after).last_step > one_token(state).last_step) ||
                            after->recovery.size() < state.recovery.size();
                        if (!consumed || after->failures != 0)
                            fail_msg("%s: PAM_SUCCESS but nothing consumed on disk", what.c_str());
                    }
                    if (retried_call(fault) && outcome.rc != baseline.rc)
                        fail_msg("%s: a retried call changed the result (%d, not %d)", what.c_str(),
                                 outcome.rc, baseline.rc);
                    if (baseline.rc == PAM_SUCCESS && outcome.rc != PAM_SUCCESS) {
                        bool said_why = false;
                        for (std::size_t i = 0; i < outcome.log.size(); ++i)
                            said_why |= outcome.priorities[i] <= LOG_ERR;
                        if (!said_why)
                            fail_msg("%s: refused without an error in the log", what.c_str());
                    }
                    if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != geteuid())
                        fail_msg("%s: filesystem identity not restored", what.c_str());
                }
            }
        }
    }
    std::printf("%s: %d fault runs\n", scenario.name, runs);
    assert_true(runs > 10);
}

int setup(void**) {
    // On tmpfs when there is one: this test is about failures, not about the disk's speed.
    std::string root = std::string(access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") +
                       "/pam_totp_faults.XXXXXX";
    assert_non_null(mkdtemp(root.data()));
    g_root = root;
    assert_int_equal(chmod(root.c_str(), 0755), 0);
    assert_int_equal(mkdir(state_dir().c_str(), 0700), 0);
    assert_int_equal(mkdir((g_root + "/home").c_str(), 0755), 0);
    assert_int_equal(mkdir(home().c_str(), 0700), 0);
    assert_int_equal(chown(home().c_str(), kAlice, kAlice), 0);
    std::ofstream(g_root + "/pam_totp.conf") << "[global]\n";
    faults::set_accounts({{"alice", kAlice, kAlice, home(), {}}}, {});
    return 0;
}

int teardown(void**) {
    std::filesystem::remove_all(g_root);
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
                std::ifstream in(dir + "/carol", std::ios::binary);
                const std::string bytes{std::istreambuf_iterator<char>(in), {}};
                if (saved && (entries != 1 || !totp::decode_file(bytes)))
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
    return cmocka_run_group_tests(tests, setup, teardown);
}
