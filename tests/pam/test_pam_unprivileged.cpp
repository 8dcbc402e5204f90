// SPDX-License-Identifier: Apache-2.0
// pam_totp run by a caller that is not root: programs that check a password as the user
// (screen lockers, vlock, kcheckpass). Such a caller cannot read the root-only records.
// With the state directory searchable by others (0711) it can still tell that an account
// has no record, so an account that is not enrolled follows nullok as it does for root; an
// enrolled account's code goes to the setuid helper totp-verify. A directory it cannot
// search (0700) fails closed for everyone.

#include <grp.h>
#include <security/pam_appl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
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

using fixture::code_at;
using fixture::enroll;
using fixture::kEpoch;
using fixture::log_contains;
using fixture::password_of;

namespace {

const totp::OtpParams kDefault{};
// The fixture's uids (fixture.cpp): alice 1001, bob 1002.
constexpr uid_t kAlice = 1001;
constexpr uid_t kBob = 1002;

// Runs one login in a child that has dropped every privilege to `uid`, as a screen locker
// running in the user's session does; returns its pam_authenticate() result. The result
// comes back through a pipe, not the exit status: under valgrind a child that leaves
// through _exit reports pam_wrapper's per-process setup as lost and changes its status.
int login_as_uid(uid_t uid, const std::string& service, const std::string& user,
                 const std::vector<std::string>& answers) {
    int result_pipe[2];
    assert_int_equal(pipe(result_pipe), 0);
    const pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(result_pipe[0]);
        int rc = -1;  // could not drop privileges
        if (setgroups(0, nullptr) == 0 && setresgid(uid, uid, uid) == 0 &&
            setresuid(uid, uid, uid) == 0 && geteuid() == uid) {
            rc = fixture::login(service, user, answers).rc;
        }
        const bool sent = write(result_pipe[1], &rc, sizeof rc) == sizeof rc;
        fixture::remove_pam_wrapper_dir();  // _exit skips pam_wrapper's own cleanup
        _exit(sent ? 0 : 1);
    }
    close(result_pipe[1]);
    int rc = -2;
    const bool received = read(result_pipe[0], &rc, sizeof rc) == sizeof rc;
    close(result_pipe[0]);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    if (!received) fail_msg("the unprivileged login died (status %d)", status);
    if (rc == -1) fail_msg("could not drop privileges to uid %d", uid);
    return rc;
}

void set_state_dir_mode(mode_t mode) {
    assert_int_equal(chmod(fixture::paths().state_dir.c_str(), mode), 0);
}

// Everything the unprivileged child reads must be reachable by it: the sandbox directory
// (searchable), the service files, passwd, group and the config file (0644, as installed).
// The password database of pam_matrix is made readable, as unix_chkpwd makes the shadow
// file usable to such callers; the captured syslog is writable by the child.
int prepare_for_unprivileged_callers() {
    const std::string& root = fixture::paths().root;
    if (chmod(root.c_str(), 0711) != 0) return -1;
    fixture::write_file(root + "/passdb-readable", fixture::read_file(root + "/passdb"), 0644);
    return 0;
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    if (prepare_for_unprivileged_callers() != 0) return -1;
    const std::string& root = fixture::paths().root;
    const std::string password = std::string("auth required ") + TOTP_PAM_WRAPPER_MODULES +
                                 "/pam_matrix.so passdb=" + root + "/passdb-readable\n";
    const std::string totp = std::string("auth required ") + TOTP_MODULE_PATH +
                             " state_dir=" + fixture::paths().state_dir +
                             " config=" + fixture::paths().config;
    fixture::write_raw_service("locker", password + totp + " nullok\n");
    fixture::write_raw_service("locker-strict", password + totp + "\n");
    return 0;
}

// The fixture's reset, then a state directory as the packages create it (0711) and a log
// file the unprivileged child can append to.
int reset(void** state) {
    fixture::reset(state);
    set_state_dir_mode(0711);
    fixture::write_file(fixture::paths().syslog, "", 0666);
    return 0;
}

void unenrolled_account_with_nullok_logs_in_as_for_root(void**) {
    assert_int_equal(login_as_uid(kBob, "locker", "bob", {password_of("bob")}), PAM_SUCCESS);
    assert_int_equal(fixture::login("locker", "bob", {password_of("bob")}).rc, PAM_SUCCESS);
}

void unenrolled_account_without_nullok_is_refused(void**) {
    assert_int_equal(login_as_uid(kBob, "locker-strict", "bob", {password_of("bob"), "123456"}),
                     PAM_AUTH_ERR);
    assert_true(log_contains("authentication failure: not enrolled for user bob"));
}

// The module hands the code to totp-verify at its compiled-in path (tests/system's
// test_verify_helper.sh installs one there in a sandbox). Where there is none, as on this
// test host, the login fails closed and says why; nothing is counted.
void enrolled_account_without_the_helper_fails_closed_with_the_reason_logged(void**) {
    if (access(TOTP_VERIFY_HELPER_PATH, F_OK) == 0) {
        std::printf("note: %s exists here, the missing-helper case is not run\n",
                    TOTP_VERIFY_HELPER_PATH);
        return;
    }
    const auto secret = enroll("alice");
    const std::string code = code_at(secret, kDefault, kEpoch);
    assert_int_equal(login_as_uid(kAlice, "locker", "alice", {password_of("alice"), code}),
                     PAM_AUTH_ERR);
    assert_true(log_contains("cannot run the verification helper " TOTP_VERIFY_HELPER_PATH));
    assert_true(log_contains("the caller runs as uid 1001"));
    assert_true(log_contains("failing closed"));
    assert_false(log_contains(code));
    assert_int_equal(fixture::read_state("alice").failures, 0);

    // Root, through the same 0711 directory, checks the same code as before.
    assert_int_equal(fixture::login("locker", "alice", {password_of("alice"), code}).rc,
                     PAM_SUCCESS);
}

// Without search permission on the directory "not enrolled" cannot be told from "cannot
// read": nullok must not let anyone through.
void unsearchable_state_directory_fails_closed_even_with_nullok(void**) {
    set_state_dir_mode(0700);
    assert_int_equal(login_as_uid(kBob, "locker", "bob", {password_of("bob"), "123456"}),
                     PAM_AUTH_ERR);
    assert_true(log_contains("the caller runs as uid 1002"));
    assert_true(log_contains("failing closed"));
    assert_true(log_contains("a state directory others may search (mode 0711)"));
}

// The PostgreSQL store's key and password files are root's: a caller that is not root
// fails closed for everyone, and the log line says that this is why.
void postgresql_store_fails_closed_for_a_caller_that_is_not_root(void**) {
    fixture::write_file(fixture::paths().config,
                        "[global]\nstore = postgresql\nstore_dsn = host=127.0.0.1 dbname=totp\n",
                        0644);
    assert_int_equal(login_as_uid(kBob, "locker", "bob", {password_of("bob"), "123456"}),
                     PAM_AUTH_ERR);
    assert_true(log_contains("the caller runs as uid 1002"));
    assert_true(log_contains("with store = postgresql, callers that are not root always fail"));
}

}  // namespace

int main() {
    if (geteuid() != 0) {
        std::printf("SKIP: dropping to another uid needs root\n");
        return 77;
    }
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, reset)
        CASE(unenrolled_account_with_nullok_logs_in_as_for_root),
        CASE(unenrolled_account_without_nullok_is_refused),
        CASE(enrolled_account_without_the_helper_fails_closed_with_the_reason_logged),
        CASE(unsearchable_state_directory_fails_closed_even_with_nullok),
        CASE(postgresql_store_fails_closed_for_a_caller_that_is_not_root),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
