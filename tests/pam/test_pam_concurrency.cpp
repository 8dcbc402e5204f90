// Many processes logging in as one user at the same moment: the store's lock must make
// exactly one of them win a code, and count every failure.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "fixture.hpp"

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

constexpr int kProcesses = 24;

// Forks kProcesses children that wait on a pipe, then all try to log in with `code` at
// once. Returns how many got PAM_SUCCESS.
int race(const std::string& service, const std::string& user, const std::string& code) {
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    const std::string init_lock = fixture::paths().root + "/pam_wrapper.lock";
    std::vector<pid_t> children;
    for (int i = 0; i < kProcesses; ++i) {
        const pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(gate[1]);
            // pam_wrapper sets itself up again in every forked child, and two children
            // doing so at once can clash; only the setup is serialized, not the logins.
            const int lock = open(init_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (lock < 0 || flock(lock, LOCK_EX) != 0) _exit(98);
            fixture::start_pam_wrapper();
            close(lock);
            char go;
            if (read(gate[0], &go, 1) != 0) _exit(99);  // EOF is the starting signal
            const auto result = fixture::login(service, user, {fixture::password_of(user), code});
            fixture::remove_pam_wrapper_dir();  // _exit skips pam_wrapper's own cleanup
            _exit(result.rc == 0 ? 0 : 1);
        }
        children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);  // all children start together
    int successes = 0;
    for (pid_t pid : children) {
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_true(WEXITSTATUS(status) <= 1);
        if (WEXITSTATUS(status) == 0) ++successes;
    }
    return successes;
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "max_failures=1000");
    return 0;
}

void same_valid_code_from_many_processes_succeeds_exactly_once(void**) {
    for (int round = 0; round < 3; ++round) {
        const auto secret = fixture::enroll("alice");
        const std::string code = fixture::code_at(secret, {}, fixture::kEpoch);
        assert_int_equal(race("login", "alice", code), 1);
        const auto state = fixture::read_state("alice");
        assert_true(state.last_step.value() == fixture::kEpoch / 30);
        // Every loser presented a used step: a replay, and each one was counted.
        assert_int_equal(state.failures, kProcesses - 1);
    }
}

void concurrent_wrong_codes_are_all_counted(void**) {
    fixture::enroll("alice");
    assert_int_equal(race("login", "alice", "000000"), 0);
    assert_int_equal(fixture::read_state("alice").failures, kProcesses);
    assert_int_equal(race("login", "alice", "999999"), 0);
    assert_int_equal(fixture::read_state("alice").failures, 2 * kProcesses);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(same_valid_code_from_many_processes_succeeds_exactly_once,
                               fixture::reset),
        cmocka_unit_test_setup(concurrent_wrong_codes_are_all_counted, fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
