// SPDX-License-Identifier: Apache-2.0
// Local users against the database's connection slots. Anyone may run the setuid totp-enroll
// and stop it (SIGSTOP) while it holds a connection, or a transaction with a row lock; enough
// stopped copies would take every slot and fail logins closed fleet-wide. The store's
// sessions end on the server after a few idle seconds (idle_session_timeout,
// idle_in_transaction_session_timeout), and a per-role CONNECTION LIMIT keeps one role's
// clients from the slots of the others. The processes stop themselves at a known point
// (stop_at.c), as a well-timed `kill -STOP` would catch them.
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
using pg_fixture::server;

// max_connections 10, less superuser_reserved_connections (3): what roles without
// superuser share.
constexpr int kMaxConnections = 10;
constexpr int kRoleSlots = kMaxConnections - 3;

std::string dsn(const std::string& role) {
    return "postgresql://" + role + "@127.0.0.1:" + pg_fixture::port() +
           "/postgres?sslmode=disable";
}

std::string config_for(const std::string& role) {
    return fixture::paths().root + "/" + role + ".conf";
}

// `totp-enroll status USER` as the role, run until it stops itself at `point` or exits.
std::pair<pid_t, bool> status_stopped_at(const std::string& user, const char* point,
                                         const std::string& role = "fleet") {
    return pg_fixture::enroll_stopped_at(user, point, config_for(role));
}

void kill_stopped(const std::vector<pid_t>& pids) {
    for (pid_t pid : pids) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
}

int login(const std::string& service, const totp::SecretBytes& secret) {
    const std::string code = fixture::code_at(secret, {}, fixture::kEpoch);
    return fixture::login(service, "alice", {fixture::password_of("alice"), code}).rc;
}

// Stopped processes hold every slot the role has, some on an idle connection and some inside
// a transaction that locks another user's row. Within the idle timeouts (and a generous
// margin) the server ends their sessions and a login succeeds, though they stay stopped.
void stopped_clients_holding_every_slot_do_not_lock_out_logins(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(dsn("fleet"), "alice");
    const char* const others[] = {"bob", "carol", "dave", "erin"};
    std::vector<pid_t> stopped;
    for (int i = 0; i < kRoleSlots; ++i) {
        const auto [pid, is_stopped] = i % 2 == 0 ? status_stopped_at("alice", "connected")
                                                  : status_stopped_at(others[i / 2], "locked");
        stopped.push_back(pid);
        must(is_stopped, "totp-enroll stopped holding a connection");
    }
    bool logged_in = false;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(40);
    while (!logged_in && std::chrono::steady_clock::now() < deadline) {
        logged_in = login("fleet", secret) == 0;
        if (!logged_in) sleep(1);
    }
    kill_stopped(stopped);
    assert_true(logged_in);
}

// A process stopped inside its transaction holds the user's row lock; the server ends that
// session after idle_in_transaction_session_timeout, before the waiting login's lock_timeout.
void a_row_lock_held_by_a_stopped_process_is_released_for_the_next_login(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(dsn("fleet"), "alice");
    const auto [pid, is_stopped] = status_stopped_at("alice", "locked");
    must(is_stopped, "totp-enroll stopped holding alice's row lock");
    const int rc = pg_fixture::without_hanging([&] { return login("fleet", secret); });
    kill_stopped({pid});
    assert_int_equal(rc, PAM_SUCCESS);
    assert_false(fixture::log_contains("lock timeout"));
}

// With a CONNECTION LIMIT on its role (one role per server, as the documentation advises),
// the stopped clients of one server get no more than that role's slots: once they are used
// up, more copies fail closed instead of stopping, and another server's role logs in at once.
void a_role_connection_limit_keeps_stopped_clients_from_other_roles_slots(void**) {
    const totp::SecretBytes secret = pg_fixture::enroll(dsn("fleet"), "alice");
    server("sql", "ALTER ROLE fleet CONNECTION LIMIT 3");
    std::vector<pid_t> stopped;
    int refused = 0;
    for (int i = 0; i < kRoleSlots; ++i) {
        const auto [pid, is_stopped] = status_stopped_at("alice", "connected");
        if (is_stopped) {
            stopped.push_back(pid);
        } else {
            ++refused;
        }
    }
    const int other_role_rc = login("fleet_b", secret);
    kill_stopped(stopped);
    server("sql", "ALTER ROLE fleet CONNECTION LIMIT -1");
    assert_int_equal(stopped.size(), 3);
    assert_int_equal(refused, kRoleSlots - 3);
    assert_int_equal(other_role_rc, PAM_SUCCESS);
}

// --- Setup -------------------------------------------------------------------------------

int group_setup(void** state) {
    pg_fixture::setup(state);
    // Two server roles without superuser, as in a fleet: they share kRoleSlots slots.
    for (const char* role : {"fleet", "fleet_b"}) {
        server("sql", std::string("CREATE ROLE ") + role + " LOGIN PASSWORD '" +
                          pg_fixture::kPassword + "'");
        pg_fixture::write_store_config(config_for(role), dsn(role));
        fixture::write_service(role, pg_fixture::module_args(dsn(role)));
    }
    server("sql", "GRANT CREATE ON SCHEMA public TO fleet");
    pg_fixture::create_schema(dsn("fleet"));
    server("sql",
           "GRANT SELECT, INSERT, UPDATE, DELETE ON pam_totp_users, pam_totp_reset_tokens, "
           "pam_totp_schema TO fleet_b");
    server("sql", "ALTER SYSTEM SET max_connections = " + std::to_string(kMaxConnections));
    server("stop");
    server("start");
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(stopped_clients_holding_every_slot_do_not_lock_out_logins,
                               fixture::reset),
        cmocka_unit_test_setup(a_row_lock_held_by_a_stopped_process_is_released_for_the_next_login,
                               fixture::reset),
        cmocka_unit_test_setup(a_role_connection_limit_keeps_stopped_clients_from_other_roles_slots,
                               fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, pg_fixture::teardown);
}
