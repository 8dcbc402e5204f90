// SPDX-License-Identifier: Apache-2.0
// totp-enroll as a user runs it (setuid root: real uid the user's, saved uid root): while it
// holds locks other programs wait for, the user must not be able to stop it.
#include <grp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "privileges.hpp"

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

constexpr uid_t kUser = 4242;

bool uids_are(uid_t real, uid_t effective, uid_t saved) {
    uid_t r = 0, e = 0, s = 0;
    return ::getresuid(&r, &e, &s) == 0 && r == real && e == effective && s == saved;
}

bool stop_signal_blocked() {
    sigset_t mask;
    return ::sigprocmask(SIG_BLOCK, nullptr, &mask) == 0 && sigismember(&mask, SIGTSTP) == 1;
}

// What kill(2) from a process of the user's own returns for this process: 0 or errno.
int kill_from_the_user(int signal) {
    const pid_t target = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::setresuid(kUser, kUser, kUser) != 0) ::_exit(100);
        ::_exit(::kill(target, signal) == 0 ? 0 : errno);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    return WEXITSTATUS(status);
}

// The child plays totp-enroll run by kUser; its exit status names the first check that
// failed (0: none).
int run_as_setuid_tool() {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(kUser, kUser, kUser) != 0 ||
        ::setresuid(kUser, 0, 0) != 0) {
        return 1;
    }
    totp_enroll::Privileges privileges = totp_enroll::Privileges::start();
    if (!uids_are(kUser, kUser, 0)) return 2;
    if (kill_from_the_user(0) != 0) return 3;  // outside the guard the user may signal it
    {
        const totp_enroll::Privileges::Elevation elevated = privileges.elevate();
        const totp_enroll::Privileges::Unstoppable unstoppable = privileges.unstoppable();
        if (!uids_are(0, 0, 0)) return 4;
        if (!stop_signal_blocked()) return 5;
        if (kill_from_the_user(SIGSTOP) != EPERM) return 6;
    }
    if (!uids_are(kUser, kUser, 0)) return 7;
    if (stop_signal_blocked()) return 8;
    if (kill_from_the_user(SIGCONT) != 0) return 9;
    return 0;
}

}  // namespace

static void the_caller_cannot_stop_the_tool_while_it_is_unstoppable(void**) {
    const pid_t pid = ::fork();
    assert_true(pid >= 0);
    if (pid == 0) ::_exit(run_as_setuid_tool());
    int status = 0;
    assert_int_equal(::waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

int main() {
    if (::geteuid() != 0) {
        std::fprintf(stderr, "skipped: needs root to play a setuid program\n");
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_caller_cannot_stop_the_tool_while_it_is_unstoppable),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
