// SPDX-License-Identifier: Apache-2.0
// The monitor's stall guard: a task running past its limit ends the process with
// kStalledExitStatus; tasks that finish in time, and idle ones, do not. Each case runs in
// a child process, which the guard may end.
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "cmocka.hpp"
#include "stall_guard.hpp"

using namespace std::chrono_literals;

namespace {

// Runs `body` in a child and returns its exit status (-1 if it did not exit normally).
template <typename Body>
int status_of_child(Body body) {
    const pid_t pid = ::fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ::alarm(60);  // a guard that never fires must not hang the suite
        body();
        ::_exit(0);
    }
    int status = 0;
    assert_int_equal(::waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

static void task_past_its_limit_ends_the_process(void**) {
    const auto started = std::chrono::steady_clock::now();
    const int status = status_of_child([] {
        resetd::StallGuard guard;
        resetd::StallGuard::Task& task = guard.task("a stuck request", 1s);
        const resetd::StallGuard::Watch watch(task);
        std::this_thread::sleep_for(30s);
    });
    assert_int_equal(status, resetd::kStalledExitStatus);
    assert_true(std::chrono::steady_clock::now() - started < 20s);  // generous: limit 1 s
}

static void tasks_that_finish_in_time_do_not(void**) {
    const int status = status_of_child([] {
        resetd::StallGuard guard;
        resetd::StallGuard::Task& task = guard.task("a request", 1s);
        for (int i = 0; i < 8; ++i) {
            const resetd::StallGuard::Watch watch(task);
            std::this_thread::sleep_for(300ms);
        }
    });
    assert_int_equal(status, 0);
}

static void an_idle_task_is_not_stalled(void**) {
    const int status = status_of_child([] {
        resetd::StallGuard guard;
        static_cast<void>(guard.task("a request", 1s));
        std::this_thread::sleep_for(2500ms);
    });
    assert_int_equal(status, 0);
}

static void each_task_has_its_own_limit(void**) {
    const int status = status_of_child([] {
        resetd::StallGuard guard;
        resetd::StallGuard::Task& quick = guard.task("a request", 1s);
        resetd::StallGuard::Task& slow = guard.task("a mail", 30s);
        const resetd::StallGuard::Watch mail(slow);
        for (int i = 0; i < 8; ++i) {
            const resetd::StallGuard::Watch request(quick);
            std::this_thread::sleep_for(300ms);
        }
    });
    assert_int_equal(status, 0);
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(task_past_its_limit_ends_the_process),
        cmocka_unit_test(tasks_that_finish_in_time_do_not),
        cmocka_unit_test(an_idle_task_is_not_stalled),
        cmocka_unit_test(each_task_has_its_own_limit),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
