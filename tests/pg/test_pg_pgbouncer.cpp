// SPDX-License-Identifier: Apache-2.0
// The fleet store through PgBouncer as docs/examples/pgbouncer.ini sets it up: transaction
// pooling on a unix socket, TLS with verify-full from the pooler to the server. A login's
// read-check-write is one transaction holding the row lock, so it stays exact when the
// pooler lends each transaction a different server connection; and a stopped client holds
// at most one server connection, for at most the idle timeout.
#include <security/pam_appl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <string>
#include <vector>

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

constexpr int kPoolSize = 2;
constexpr int kRacers = 12;
// The store's deadline for a login's exchange once connected (store_pg/pg_store.cpp), and a
// generous margin: the bound a failing login must keep.
constexpr auto kDeadline = std::chrono::seconds(8);
constexpr auto kMargin = std::chrono::seconds(7);

std::string g_pooled_dsn;
std::string g_socket_dir;

std::string direct_dsn() {
    return "postgresql://postgres@localhost:" + pg_fixture::port() +
           "/postgres?sslmode=verify-full&sslrootcert=" + pg_fixture::ca_file();
}

std::string config_file() {
    return fixture::paths().root + "/pooled.conf";
}

std::string code(const totp::SecretBytes& secret) {
    return fixture::code_at(secret, {}, fixture::kEpoch);
}

int login(const std::string& user, const std::string& answer) {
    return pg_fixture::without_hanging([&] {
        return fixture::login("pooled", user, {fixture::password_of(user), answer}).rc;
    });
}

// The server connections the fleet role has: the pooler's, and nobody else's.
int server_connections() {
    return std::stoi(
        pg_fixture::query("SELECT count(*) FROM pg_stat_activity WHERE usename = 'fleet'"));
}

// `totp-enroll status USER` through the pooler, run until it stops itself at `point`
// (stop_at.c: "connected", or "locked" inside its transaction). Returns its pid.
pid_t status_stopped_at(const std::string& user, const char* point) {
    const auto [pid, stopped] = pg_fixture::enroll_stopped_at(user, point, config_file());
    must(stopped, "totp-enroll stopped where it was told to");
    return pid;
}

// --- Tests -------------------------------------------------------------------------------

void pgbouncer_racing_processes_accept_one_code_exactly_once(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(direct_dsn(), "alice");
    const std::string answer = code(secret);
    assert_int_equal(fixture::race(kRacers, [&](int) { return login("alice", answer) == 0; }), 1);
}

// The pooler's connections to the server (all the fleet role has) are TLS.
void pgbouncer_holds_only_tls_connections_to_the_server(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(direct_dsn(), "dave");
    assert_int_equal(login("dave", code(secret)), PAM_SUCCESS);
    const int connections = server_connections();
    assert_true(connections >= 1);
    assert_int_equal(std::stoi(pg_fixture::query(
                         "SELECT count(*) FROM pg_stat_activity JOIN pg_stat_ssl USING (pid) "
                         "WHERE usename = 'fleet' AND ssl")),
                     connections);
}

void pgbouncer_replayed_code_is_refused(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(direct_dsn(), "bob");
    assert_int_equal(login("bob", code(secret)), PAM_SUCCESS);
    assert_int_not_equal(login("bob", code(secret)), PAM_SUCCESS);
}

// erin's row, locked by an admin session until it ends.
pg_fixture::Session lock_erins_row() {
    return pg_fixture::hold_lock(
        direct_dsn(), "BEGIN; SELECT 1 FROM pam_totp_users WHERE username = 'erin' FOR UPDATE");
}

// The server never sees the store's startup options through the pooler; the limits it
// relies on come with each transaction (SET LOCAL). With the user's row locked by someone
// else, the login fails closed on the server's lock_timeout, with the server's reason.
void pgbouncer_a_locked_row_fails_the_login_on_the_servers_lock_timeout(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(direct_dsn(), "erin");
    pg_fixture::Session admin = lock_erins_row();
    const int rc = login("erin", code(secret));
    admin.reset();
    assert_int_not_equal(rc, PAM_SUCCESS);
    assert_true(fixture::log_contains("lock timeout (SQLSTATE 55P03)"));
}

pid_t pooler_pid() {
    const auto [rc, pid] = pg_fixture::run("cat " + g_socket_dir + "/pgbouncer.pid");
    must(rc == 0, "pgbouncer.pid");
    return static_cast<pid_t>(std::stoi(pid));
}

// A pooler that stops answering in the middle of a login (stopped here; hung, in the field)
// still takes connections on its socket, into the listen queue: the cancel the store sends at
// its deadline is accepted and never answered. The login still ends at its deadline.
void pgbouncer_that_hangs_mid_login_does_not_hold_the_login_past_its_deadline(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(direct_dsn(), "erin");
    pg_fixture::Session admin = lock_erins_row();
    const pid_t pooler = pooler_pid();
    const pid_t stopper = fork();
    must(stopper >= 0, "fork");
    if (stopper == 0) {  // stops the pooler while the login waits for the row lock
        sleep(1);
        kill(pooler, SIGSTOP);
        sleep(30);
        kill(pooler, SIGCONT);
        _exit(0);
    }
    const auto started = std::chrono::steady_clock::now();
    const int rc = login("erin", code(secret));
    const auto took = std::chrono::steady_clock::now() - started;
    kill(stopper, SIGKILL);
    waitpid(stopper, nullptr, 0);
    kill(pooler, SIGCONT);
    admin.reset();
    assert_int_not_equal(rc, PAM_SUCCESS);
    assert_true(took < kDeadline + kMargin);
}

// Stopped copies of the setuid totp-enroll: idle ones hold no server connection at all,
// ones stopped inside their transaction hold one each (all the pool has) until the idle
// timeout ends it. The server never sees more than the pool, and a login gets through.
void pgbouncer_stopped_totp_enroll_processes_hold_at_most_the_pool_briefly(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(direct_dsn(), "carol");
    pg_fixture::enroll(direct_dsn(), "dave");
    pg_fixture::enroll(direct_dsn(), "erin");
    std::vector<pid_t> stopped;
    for (int i = 0; i < 6; ++i) stopped.push_back(status_stopped_at("carol", "connected"));
    stopped.push_back(status_stopped_at("dave", "locked"));
    stopped.push_back(status_stopped_at("erin", "locked"));
    const int held = server_connections();
    bool logged_in = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!logged_in && std::chrono::steady_clock::now() < deadline) {
        logged_in = login("carol", code(secret)) == PAM_SUCCESS;
        if (!logged_in) sleep(1);
    }
    for (pid_t pid : stopped) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
    assert_true(held <= kPoolSize);
    assert_true(logged_in);
}

// --- Setup -------------------------------------------------------------------------------

int group_setup(void** state) {
    pg_fixture::setup(state, /*tls=*/true);
    pg_fixture::create_schema(direct_dsn());
    pg_fixture::create_minimal_role("fleet");
    g_socket_dir = pg_fixture::start_pooler("fleet", kPoolSize);
    g_pooled_dsn =
        "postgresql:///postgres?host=" + g_socket_dir + "&port=6432&user=fleet&sslmode=disable";
    fixture::write_service("pooled", pg_fixture::module_args(g_pooled_dsn));
    pg_fixture::write_store_config(config_file(), g_pooled_dsn);
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(pgbouncer_racing_processes_accept_one_code_exactly_once,
                               fixture::reset),
        cmocka_unit_test_setup(pgbouncer_holds_only_tls_connections_to_the_server, fixture::reset),
        cmocka_unit_test_setup(pgbouncer_replayed_code_is_refused, fixture::reset),
        cmocka_unit_test_setup(pgbouncer_a_locked_row_fails_the_login_on_the_servers_lock_timeout,
                               fixture::reset),
        cmocka_unit_test_setup(
            pgbouncer_that_hangs_mid_login_does_not_hold_the_login_past_its_deadline,
            fixture::reset),
        cmocka_unit_test_setup(
            pgbouncer_stopped_totp_enroll_processes_hold_at_most_the_pool_briefly, fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, pg_fixture::teardown);
}
