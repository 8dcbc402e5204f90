// SPDX-License-Identifier: Apache-2.0
// Many processes hammer one user at once, round after round, with a mix of valid, replayed
// and wrong codes, through pam_sm_authenticate on the real store (files and flock):
//   - of all processes typing the current code at once, exactly one gets in;
//   - every other attempt fails, and concurrent wrong codes are all counted;
//   - a lockout starts at exactly max_failures, whatever the interleaving: the attempts
//     that take the count there fail (PAM_AUTH_ERR), the rest are locked out (PAM_MAXTRIES);
//   - while locked, even the valid code is refused and nothing changes.
#include <security/pam_appl.h>
#include <security/pam_modules.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fake_pam.hpp"
#include "faults.hpp"
#include "must_run.hpp"
#include "one_token.hpp"
#include "scratch_dir.hpp"
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

constexpr int kProcesses = 18;
constexpr int kLockoutSeconds = 120;
constexpr auto kTimeLimit = std::chrono::seconds(20);

std::string g_dir;

totp::SecretBytes secret() {
    totp::SecretBytes bytes(20);
    for (std::size_t i = 0; i < bytes.size(); ++i)
        bytes.data()[i] = static_cast<std::uint8_t>(5 * i + 2);
    return bytes;
}

std::string code_for_step(std::uint64_t step) {
    return std::string(totp::hotp(secret(), step, totp::Algorithm::sha1, 6)->view());
}

totp::UserState read_state() {
    auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
    assert_true(record.ok() && (*record)->state());
    return (*record)->state()->clone();
}

int login(const std::string& code, std::int64_t now, int max_failures) {
    pam_handle handle;
    handle.user = "alice";
    handle.answers.emplace_back(code);
    const std::string config = "config=" + g_dir + "/pam_totp.conf";
    const std::string dir = "state_dir=" + g_dir;
    const std::string failures = "max_failures=" + std::to_string(max_failures);
    const std::string lockout = "lockout_seconds=" + std::to_string(kLockoutSeconds);
    const char* argv[] = {config.c_str(), dir.c_str(), failures.c_str(), lockout.c_str()};
    faults::arm({{}, now});
    const int rc = pam_sm_authenticate(&handle, 0, 4, argv);
    faults::disarm();
    return rc;
}

// All codes log in at the same moment, one process each; how many got each result.
std::map<int, int> race(const std::vector<std::string>& codes, std::int64_t now, int max_failures) {
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    std::vector<pid_t> children;
    for (const std::string& code : codes) {
        const pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(gate[1]);
            char go;
            if (read(gate[0], &go, 1) != 0) _exit(100);  // EOF: everybody starts
            _exit(login(code, now, max_failures));
        }
        children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
    std::map<int, int> results;
    for (pid_t pid : children) {
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        ++results[WEXITSTATUS(status)];
    }
    return results;
}

// A wrong code that is no valid code near `step` (6-digit codes do collide).
std::string wrong_code(std::uint64_t step, int variant) {
    for (int candidate = 100000 + variant * 7919;; candidate += 13) {
        std::string text = std::to_string(candidate % 1000000 + 100000).substr(0, 6);
        bool valid = false;
        for (std::uint64_t near = step - 2; near <= step + 2; ++near)
            valid |= code_for_step(near) == text;
        if (!valid) return text;
    }
}

void hammering_one_user_gives_exact_results(void**) {
    {
        totp::UserState state;
        one_token(state).secret = secret();
        auto record = totp::make_file_store({.state_dir = g_dir, .secret_path = ""})->open("alice");
        assert_true(record.ok() && (*record)->save(state).ok());
    }
    const auto deadline = std::chrono::steady_clock::now() + kTimeLimit;
    std::int64_t now = 1'700'000'010;
    int cycles = 0;
    std::optional<std::uint64_t> previous_step;
    for (; cycles < 40 && std::chrono::steady_clock::now() < deadline; ++cycles) {
        const std::uint64_t step = totp::time_step(now, 30);
        // 1. Valid, replayed and wrong codes at once: exactly one success.
        std::vector<std::string> codes;
        for (int i = 0; i < kProcesses; ++i) {
            if (i % 3 == 0)
                codes.push_back(code_for_step(step));
            else if (i % 3 == 1 && previous_step)
                codes.push_back(code_for_step(*previous_step));
            else
                codes.push_back(wrong_code(step, i));
        }
        auto results = race(codes, now, 1000);
        if (results[PAM_SUCCESS] != 1 || results[PAM_AUTH_ERR] != kProcesses - 1)
            fail_msg("cycle %d: %d successes, %d failures (expected 1 and %d)", cycles,
                     results[PAM_SUCCESS], results[PAM_AUTH_ERR], kProcesses - 1);
        totp::UserState state = read_state();
        assert_true(one_token(state).last_step == step);
        assert_true(state.failures <= static_cast<std::uint32_t>(kProcesses - 1));
        previous_step = step;

        // 2. Only wrong codes: every one is counted.
        const std::uint32_t before = state.failures;
        codes.clear();
        for (int i = 0; i < kProcesses; ++i) codes.push_back(wrong_code(step, 100 + i));
        results = race(codes, now, 1000);
        assert_int_equal(results[PAM_AUTH_ERR], kProcesses);
        state = read_state();
        assert_int_equal(state.failures, before + kProcesses);
        assert_int_equal(state.locked_until, 0);

        // 3. With max_failures a few above the count: exactly that many attempts fail, the
        //    last of them starts the lockout, the others find the user locked.
        const int room = 1 + cycles % 5;
        const int max_failures = static_cast<int>(state.failures) + room;
        results = race(codes, now, max_failures);
        if (results[PAM_AUTH_ERR] != room || results[PAM_MAXTRIES] != kProcesses - room)
            fail_msg("cycle %d: %d failed and %d locked out, expected %d and %d", cycles,
                     results[PAM_AUTH_ERR], results[PAM_MAXTRIES], room, kProcesses - room);
        state = read_state();
        assert_int_equal(state.failures, max_failures);
        assert_int_equal(state.locked_until, now + kLockoutSeconds);

        // 4. While locked even the valid code is refused, and nothing changes.
        codes.assign(kProcesses, code_for_step(step + 1));
        results = race(codes, now + 30, max_failures);
        assert_int_equal(results[PAM_MAXTRIES], kProcesses);
        const totp::UserState locked = read_state();
        assert_int_equal(locked.failures, state.failures);
        assert_true(one_token(locked).last_step == one_token(state).last_step);

        now += kLockoutSeconds + 30;  // the next cycle starts after the lockout
    }
    std::printf("%d cycles of %d concurrent logins x 4 rounds\n", cycles, kProcesses);
    assert_true(cycles >= 3);
}

int setup(void**) {
    g_dir = test_support::make_scratch_dir(test_support::tmpfs_or_tmp(), "pam_totp_stress", 0700);
    std::ofstream(g_dir + "/pam_totp.conf") << "[global]\n";
    faults::set_accounts({{"alice", 1001, 1001, "/home/alice", {}}}, {});
    return 0;
}

}  // namespace

int main() {
    if (geteuid() != 0)
        test_support::cannot_run("needs root (the store insists on root-owned state)");
    const CMUnitTest tests[] = {
        cmocka_unit_test(hammering_one_user_gives_exact_results),
    };
    return cmocka_run_group_tests(tests, setup, test_support::remove_scratch_dir);
}
