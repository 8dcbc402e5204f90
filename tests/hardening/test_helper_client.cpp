// SPDX-License-Identifier: Apache-2.0
// The module's side of totp-verify (pam_module/helper_client.cpp) against programs that
// misbehave, with a short deadline: one that never answers, one that closes its answer
// and hangs, one that says "yes" and does not exit, a missing one. Each fails closed within
// the deadline (generous bounds) and is killed, not left behind; a caller that ignores
// SIGCHLD (children reaped by the kernel) still gets the helper's answer.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

#include "helper_client.hpp"
#include "scratch_dir.hpp"

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

using pam_totp::HelperAnswer;

constexpr auto kDeadline = std::chrono::milliseconds(500);
std::string g_root;

// A program at a fresh path that records its pid, then runs `body` (sh).
std::string fake_helper(const std::string& name, const std::string& body) {
    std::string path = g_root + "/" + name;
    std::ofstream(path) << "#!/bin/sh\necho $$ > " << g_root << "/" << name << ".pid\n"
                        << body << "\n";
    assert_int_equal(chmod(path.c_str(), 0755), 0);
    return path;
}

pid_t recorded_pid(const std::string& name) {
    pid_t pid = 0;
    std::ifstream(g_root + "/" + name + ".pid") >> pid;
    return pid;
}

struct Timed {
    HelperAnswer answer;
    std::chrono::milliseconds took;
};

Timed run(const std::string& path) {
    const totp::SecretString code("123456");
    const auto start = std::chrono::steady_clock::now();
    HelperAnswer answer = pam_totp::run_verify_helper(path.c_str(), "alice", code, kDeadline);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    return {std::move(answer), took};
}

void expect_failed_in_time_and_gone(const std::string& name, const std::string& body,
                                    const char* why) {
    const Timed result = run(fake_helper(name, body));
    if (result.answer.kind != HelperAnswer::Kind::failed)
        fail_msg("%s: not failed (kind %d)", name.c_str(), static_cast<int>(result.answer.kind));
    if (result.answer.problem.find(why) == std::string::npos)
        fail_msg("%s: problem '%s' does not say '%s'", name.c_str(), result.answer.problem.c_str(),
                 why);
    if (result.took > std::chrono::seconds(10))
        fail_msg("%s: took %lld ms", name.c_str(), (long long)result.took.count());
    const pid_t pid = recorded_pid(name);
    assert_true(pid > 0);
    if (kill(pid, 0) == 0 || errno != ESRCH)
        fail_msg("%s: the program is still there", name.c_str());
}

void a_helper_that_answers_yes_and_exits_is_accepted(void**) {
    const Timed result = run(fake_helper("good", "cat >/dev/null; echo yes"));
    assert_int_equal(static_cast<int>(result.answer.kind),
                     static_cast<int>(HelperAnswer::Kind::accepted));
}

void a_helper_that_never_answers_is_killed_at_the_deadline(void**) {
    expect_failed_in_time_and_gone("silent", "exec sleep 60", "did not finish within 500 ms");
}

void a_helper_that_closes_its_answer_and_hangs_is_killed_at_the_deadline(void**) {
    expect_failed_in_time_and_gone("closes", "exec >&-; exec sleep 60",
                                   "did not finish within 500 ms");
}

void a_yes_from_a_helper_that_does_not_exit_is_not_taken(void**) {
    expect_failed_in_time_and_gone("lingers", "echo yes; exec sleep 60",
                                   "did not finish within 500 ms");
}

void a_missing_helper_fails_closed(void**) {
    const Timed result = run(g_root + "/missing");
    assert_int_equal(static_cast<int>(result.answer.kind),
                     static_cast<int>(HelperAnswer::Kind::failed));
    assert_non_null(
        std::strstr(result.answer.problem.c_str(), "cannot run the verification helper"));
}

// A program that ignores SIGCHLD cannot wait for its children: the answer alone counts.
void a_caller_that_ignores_sigchld_still_gets_the_answer(void**) {
    struct sigaction ignore {};
    struct sigaction previous {};
    ignore.sa_handler = SIG_IGN;
    assert_int_equal(sigaction(SIGCHLD, &ignore, &previous), 0);
    const Timed yes = run(fake_helper("yes-ignored", "echo yes"));
    const Timed no = run(fake_helper("no-ignored", "echo no; exit 1"));
    sigaction(SIGCHLD, &previous, nullptr);
    assert_int_equal(static_cast<int>(yes.answer.kind),
                     static_cast<int>(HelperAnswer::Kind::accepted));
    assert_int_equal(static_cast<int>(no.answer.kind),
                     static_cast<int>(HelperAnswer::Kind::refused));
}

// Under /tmp, not /dev/shm: the fake helpers are programs, and /dev/shm may be noexec.
int setup(void**) {
    g_root = test_support::make_scratch_dir("/tmp", "pam_totp_helper_client", 0700);
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(a_helper_that_answers_yes_and_exits_is_accepted),
        cmocka_unit_test(a_helper_that_never_answers_is_killed_at_the_deadline),
        cmocka_unit_test(a_helper_that_closes_its_answer_and_hangs_is_killed_at_the_deadline),
        cmocka_unit_test(a_yes_from_a_helper_that_does_not_exit_is_not_taken),
        cmocka_unit_test(a_missing_helper_fails_closed),
        cmocka_unit_test(a_caller_that_ignores_sigchld_still_gets_the_answer),
    };
    return cmocka_run_group_tests(tests, setup, test_support::remove_scratch_dir);
}
