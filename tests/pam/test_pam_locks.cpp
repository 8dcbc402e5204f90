// SPDX-License-Identifier: Apache-2.0
// Locks have deadlines: a process that holds a user's record and is stopped (a user's
// Ctrl-Z or SIGSTOP of their own totp-enroll) delays that user's logins by the lock
// deadline at most, and they fail closed with a log line naming the lock.
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "fixture.hpp"
#include "totp/file_lock.hpp"
#include "totp/store.hpp"

// cmocka needs these first, and its macros must come after the C++ headers.
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

// Forks a process that opens `user`'s record through the store (taking its lock) and
// stops itself; returns once it is stopped, still holding the lock.
pid_t stopped_record_holder(const std::string& user) {
    const pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  // a failed test must not leave it behind
        auto store =
            totp::make_file_store({.state_dir = fixture::paths().state_dir, .secret_path = ""});
        auto record = store->open(user);
        if (!record) _exit(1);
        raise(SIGSTOP);
        _exit(0);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, WUNTRACED), pid);
    assert_true(WIFSTOPPED(status));
    return pid;
}

// Lets a stopped holder go on and exit (which releases its lock).
void resume_and_reap(pid_t pid) {
    assert_int_equal(kill(pid, SIGCONT), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    return 0;
}

void login_fails_closed_within_deadline_while_a_stopped_process_holds_the_record(void**) {
    const auto secret = fixture::enroll("alice");
    const std::string code = fixture::code_at(secret, {}, fixture::kEpoch);
    const pid_t holder = stopped_record_holder("alice");

    alarm(30);  // fails the test rather than hanging the suite
    const auto started = std::chrono::steady_clock::now();
    const auto refused = fixture::login("login", "alice", {fixture::password_of("alice"), code});
    const auto waited = std::chrono::steady_clock::now() - started;
    alarm(0);
    assert_int_equal(refused.rc, PAM_AUTH_ERR);
    assert_true(waited < totp::kLockDeadline + std::chrono::seconds(5));
    assert_true(fixture::log_contains("locked by another process"));
    assert_true(fixture::log_contains("failing closed"));

    resume_and_reap(holder);
    // The refused attempt used nothing up: with the holder gone the same code logs in.
    assert_int_equal(fixture::login("login", "alice", {fixture::password_of("alice"), code}).rc,
                     PAM_SUCCESS);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(
            login_fails_closed_within_deadline_while_a_stopped_process_holds_the_record,
            fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
