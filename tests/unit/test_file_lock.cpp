// SPDX-License-Identifier: Apache-2.0
// lock_exclusive: a free lock is taken at once, a held one is waited for until the deadline
// and no longer, and one released during the wait is taken. Short deadlines keep it quick;
// the store tests cover the real deadline against a stopped holder.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>

#include "totp/file_lock.hpp"
#include "totp/unique_fd.hpp"

// CMocka last: it needs these C headers first, its fail() macro would break <ios>, and
// 1.1.5 declares its functions without extern "C".
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

using namespace std::chrono_literals;
using Monotonic = std::chrono::steady_clock;

struct Fixture {
    std::string path;
};

int setup(void** context) {
    char pattern[] = "/tmp/totp-file-lock-XXXXXX";
    const int fd = ::mkstemp(pattern);
    if (fd < 0) return -1;
    ::close(fd);
    *context = new Fixture{pattern};
    return 0;
}

int teardown(void** context) {
    auto* fixture = static_cast<Fixture*>(*context);
    ::unlink(fixture->path.c_str());
    delete fixture;
    return 0;
}

// A second open file description of the file: flock locks conflict between them even
// within one process, like between two processes.
totp::UniqueFd open_file(void** context) {
    totp::UniqueFd fd(::open(static_cast<Fixture*>(*context)->path.c_str(), O_RDWR | O_CLOEXEC));
    assert_true(fd.valid());
    return fd;
}

}  // namespace

static void free_lock_is_taken_at_once(void** context) {
    totp::UniqueFd fd = open_file(context);
    const auto started = Monotonic::now();
    assert_true(totp::lock_exclusive(fd.get(), "test file", totp::LockDeadline(2000ms)).ok());
    assert_true(Monotonic::now() - started < 1s);
}

static void held_lock_fails_busy_at_the_deadline_and_not_before(void** context) {
    totp::UniqueFd holder = open_file(context);
    assert_int_equal(::flock(holder.get(), LOCK_EX), 0);
    totp::UniqueFd fd = open_file(context);
    const auto started = Monotonic::now();
    const totp::Status locked =
        totp::lock_exclusive(fd.get(), "test file", totp::LockDeadline(300ms));
    const auto waited = Monotonic::now() - started;
    assert_false(locked.ok());
    assert_int_equal(locked.error().code, totp::Errc::busy);
    assert_string_equal(locked.error().message.c_str(),
                        "test file: locked by another process, gave up after 300 ms");
    assert_true(waited >= 300ms);
    assert_true(waited < 300ms + 5s);
}

static void lock_released_during_the_wait_is_taken(void** context) {
    totp::UniqueFd holder = open_file(context);
    assert_int_equal(::flock(holder.get(), LOCK_EX), 0);
    const pid_t releaser = ::fork();
    assert_true(releaser >= 0);
    if (releaser == 0) {
        ::usleep(200 * 1000);
        ::_exit(0);  // closes its copy of the holder's description
    }
    holder.reset();  // the child's copy now holds the lock alone
    totp::UniqueFd fd = open_file(context);
    assert_true(totp::lock_exclusive(fd.get(), "test file", totp::LockDeadline(5000ms)).ok());
    int status = 0;
    assert_int_equal(::waitpid(releaser, &status, 0), releaser);
}

static void flock_errors_other_than_contention_are_io_errors(void**) {
    const totp::Status locked = totp::lock_exclusive(-1, "test file");
    assert_false(locked.ok());
    assert_int_equal(locked.error().code, totp::Errc::io);
    assert_non_null(std::strstr(locked.error().message.c_str(), "locking test file"));
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(free_lock_is_taken_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(held_lock_fails_busy_at_the_deadline_and_not_before, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(lock_released_during_the_wait_is_taken, setup, teardown),
        cmocka_unit_test(flock_errors_other_than_contention_are_io_errors),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
