// SPDX-License-Identifier: Apache-2.0
// The fleet store on a replicated database: a primary and a streaming standby on loopback
// (pg_basebackup -R), one multi-host store_dsn with target_session_attrs=read-write, logins
// through the module. The primary is stopped hard and the standby promoted as an operator
// would, leaving synchronous_standby_names naming the standby that is now gone: a commit then
// waits for a confirmation that never comes, and the login must fail closed at the store's
// client-side deadline instead of hanging. The tests run in order on one pair of servers.
#include <security/pam_appl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "fixture.hpp"
#include "pg_fixture.hpp"

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

using pg_fixture::must;
using pg_fixture::server;
using pg_fixture::standby;
using pg_fixture::standby_query;

constexpr int kMaxFailures = 3;
// The store's deadline for a login's exchange once connected (store_pg/pg_store.cpp), and a
// generous margin: the bound a failing login must keep.
constexpr auto kDeadline = std::chrono::seconds(8);
constexpr auto kMargin = std::chrono::seconds(7);
constexpr auto kConnectTimeout = std::chrono::seconds(2);  // store_connect_timeout below

std::string g_standby_port;
totp::SecretBytes g_alice;

std::string primary_dsn() {
    return "postgresql://postgres@127.0.0.1:" + pg_fixture::port() + "/postgres?sslmode=disable";
}

// Both servers, the one that takes writes first: what every server of the fleet is given.
std::string fleet_dsn() {
    return "postgresql://postgres@127.0.0.1:" + pg_fixture::port() +
           ",127.0.0.1:" + g_standby_port +
           "/postgres?sslmode=disable&target_session_attrs=read-write";
}

std::string code(const totp::SecretBytes& secret, std::int64_t when) {
    return fixture::code_at(secret, {}, when);
}

int login(const std::string& user, const std::string& answer) {
    return pg_fixture::without_hanging([&] {
        return fixture::login("fleet", user, {fixture::password_of(user), answer}).rc;
    });
}

// alice's accepted time step as the standby has it.
std::string step_on_standby() {
    return standby_query(
        "SELECT coalesce(last_step, -1) FROM pam_totp_users "
        "WHERE username = 'alice'");
}

std::string step_line(std::int64_t when) {
    return std::to_string(when / 30) + "\n";
}

void replicate(const char* standby_names) {
    server("sql",
           std::string("ALTER SYSTEM SET synchronous_standby_names = '") + standby_names + "'");
    server("sql", "SELECT pg_reload_conf()");
}

// Waits until the standby streams from the primary and has replayed all it was sent.
void wait_for_standby() {
    for (int i = 0; i < 300; ++i) {
        if (pg_fixture::query("SELECT count(*) FROM pg_stat_replication WHERE state = "
                              "'streaming' AND replay_lsn = pg_current_wal_lsn()") == "1\n")
            return;
        usleep(100 * 1000);
    }
    must(false, "the standby caught up");
}

// Stops the standby's WAL receiver and waits until the primary has no standby left.
void detach_standby() {
    standby("detach");
    for (int i = 0; i < 300; ++i) {
        if (pg_fixture::query("SELECT count(*) FROM pg_stat_replication") == "0\n") return;
        usleep(100 * 1000);
    }
    must(false, "the standby detached");
}

// --- Tests -------------------------------------------------------------------------------

// With asynchronous replication a login is accepted as soon as the primary has its step: a
// standby that has not received it yet (here: its WAL receiver stopped) does not have it, and
// a failover to it in this window would accept the same code once more.
void asynchronous_replication_leaves_a_window_that_loses_the_last_accepted_step(void**) {
    replicate("");
    detach_standby();
    assert_int_equal(login("alice", code(g_alice, fixture::kEpoch)), PAM_SUCCESS);
    assert_string_equal(
        pg_fixture::query("SELECT last_step FROM pam_totp_users WHERE username = 'alice'").c_str(),
        step_line(fixture::kEpoch).c_str());
    assert_string_equal(step_on_standby().c_str(), "-1\n");
    standby("attach");
    wait_for_standby();
    assert_string_equal(step_on_standby().c_str(), step_line(fixture::kEpoch).c_str());
}

// With a synchronous standby that stops confirming, the commit waits: the login fails closed
// at the deadline, saying so, and is not accepted.
void a_write_the_synchronous_standby_does_not_confirm_fails_closed_at_the_deadline(void**) {
    replicate("*");
    wait_for_standby();
    detach_standby();
    fixture::set_now(fixture::kEpoch + 30);
    const auto started = std::chrono::steady_clock::now();
    const int rc = login("alice", code(g_alice, fixture::kEpoch + 30));
    const auto took = std::chrono::steady_clock::now() - started;
    standby("attach");
    wait_for_standby();
    assert_int_not_equal(rc, PAM_SUCCESS);
    assert_true(took < kDeadline + kMargin);
    assert_true(fixture::log_contains("database did not confirm the write"));
}

// Runs a login of a new user `user` while the synchronous standby is detached, and, as soon as
// its COMMIT waits for the standby, ends that wait with `end_wait` (pg_cancel_backend or
// pg_terminate_backend) from another session. Returns the login's PAM result.
int login_whose_commit_wait_is_ended(const char* user, const char* end_wait) {
    replicate("*");
    wait_for_standby();
    const std::int64_t now = fixture::kEpoch + 30;
    fixture::set_now(now);
    const totp::SecretBytes secret = pg_fixture::enroll(primary_dsn(), user);
    detach_standby();
    const pid_t ender = fork();
    must(ender >= 0, "fork");
    if (ender == 0) {
        const std::string sql = std::string("SELECT count(") + end_wait +
                                "(pid)) FROM pg_stat_activity WHERE wait_event = 'SyncRep'";
        for (int i = 0; i < 100; ++i) {
            if (pg_fixture::query(sql) != "0\n") _exit(0);
            usleep(50 * 1000);
        }
        _exit(1);
    }
    const int rc = login(user, code(secret, now));
    int status = 0;
    must(waitpid(ender, &status, 0) == ender, "waitpid");
    standby("attach");
    wait_for_standby();
    must(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the commit's wait was ended");
    return rc;
}

// An operator who finds commits hanging for a gone standby cancels them (pg_cancel_backend):
// the server then answers the COMMIT with a WARNING and the tag COMMIT, the step being
// committed on the primary only. The login must not be accepted: a failover would take that
// code once more.
void a_commit_whose_wait_for_the_standby_is_cancelled_is_not_accepted(void**) {
    assert_int_not_equal(login_whose_commit_wait_is_ended("dave", "pg_cancel_backend"),
                         PAM_SUCCESS);
    assert_true(fixture::log_contains("database did not confirm the write"));
}

// The same commit's connection ended (pg_terminate_backend): the answer to the COMMIT is lost,
// its outcome unknown, and the login fails closed.
void a_commit_whose_connection_is_lost_while_it_waits_is_not_accepted(void**) {
    assert_int_not_equal(login_whose_commit_wait_is_ended("erin", "pg_terminate_backend"),
                         PAM_SUCCESS);
    assert_true(fixture::log_contains("failing closed"));
}

// Synchronous replication: every accepted login is on the standby when it is reported. The
// primary dies and the standby is promoted still naming a synchronous standby of its own
// (none exists, as a plain promotion leaves it): logins fail closed within the deadline. Once
// the operator clears the setting they resume, a code accepted before the failover is
// refused, and failure counts and lockouts are as they were.
void failover_to_a_promoted_standby_fails_closed_until_fixed_then_refuses_replay(void**) {
    const std::int64_t before = fixture::kEpoch + 60;
    fixture::set_now(before);
    const totp::SecretBytes bob = pg_fixture::enroll(primary_dsn(), "bob");
    const totp::SecretBytes carol = pg_fixture::enroll(primary_dsn(), "carol");
    for (int i = 0; i < kMaxFailures; ++i)
        assert_int_not_equal(login("bob", fixture::wrong_code(bob, before)), PAM_SUCCESS);
    assert_int_equal(login("alice", code(g_alice, before)), PAM_SUCCESS);
    assert_string_equal(step_on_standby().c_str(), step_line(before).c_str());

    server("crash");
    standby("promote");
    const auto started = std::chrono::steady_clock::now();
    const int hung = login("carol", code(carol, before));
    const auto took = std::chrono::steady_clock::now() - started;
    assert_int_not_equal(hung, PAM_SUCCESS);
    assert_true(took < kDeadline + kMargin);
    assert_true(fixture::log_contains("database did not confirm the write"));

    standby("sql", "ALTER SYSTEM RESET synchronous_standby_names");
    standby("sql", "SELECT pg_reload_conf()");
    assert_int_not_equal(login("alice", code(g_alice, before)), PAM_SUCCESS);
    assert_int_not_equal(login("bob", code(bob, before)), PAM_SUCCESS);
    assert_string_equal(
        standby_query("SELECT failures FROM pam_totp_users WHERE username = 'bob'").c_str(),
        (std::to_string(kMaxFailures) + "\n").c_str());
    // Within store_connect_timeout for the dead host listed first (and a margin).
    fixture::set_now(before + 30);
    const auto resumed = std::chrono::steady_clock::now();
    assert_int_equal(login("alice", code(g_alice, before + 30)), PAM_SUCCESS);
    assert_true(std::chrono::steady_clock::now() - resumed < kConnectTimeout + kMargin);
}

// --- Setup -------------------------------------------------------------------------------

int group_setup(void** state) {
    pg_fixture::setup(state);
    pg_fixture::create_schema(primary_dsn());
    g_alice = pg_fixture::enroll(primary_dsn(), "alice");
    // Before the base backup, so that the standby has it too, as a copy of the primary would.
    replicate("*");
    g_standby_port = pg_fixture::start_standby();
    fixture::write_service(
        "fleet", pg_fixture::module_args(fleet_dsn()) +
                     " store_connect_timeout=2 max_failures=" + std::to_string(kMaxFailures));
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(
            asynchronous_replication_leaves_a_window_that_loses_the_last_accepted_step,
            fixture::reset),
        cmocka_unit_test_setup(
            a_write_the_synchronous_standby_does_not_confirm_fails_closed_at_the_deadline,
            fixture::reset),
        cmocka_unit_test_setup(a_commit_whose_wait_for_the_standby_is_cancelled_is_not_accepted,
                               fixture::reset),
        cmocka_unit_test_setup(a_commit_whose_connection_is_lost_while_it_waits_is_not_accepted,
                               fixture::reset),
        cmocka_unit_test_setup(
            failover_to_a_promoted_standby_fails_closed_until_fixed_then_refuses_replay,
            fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, pg_fixture::teardown);
}
