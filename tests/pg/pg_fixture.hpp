// SPDX-License-Identifier: Apache-2.0
// A throwaway PostgreSQL server for the fleet-store tests (pg_server.sh: initdb'd in a
// directory under /tmp, run as the unprivileged `postgres` user on 127.0.0.1, stopped at
// the end), on top of the PAM sandbox of tests/pam/fixture.hpp, with the store's key and
// password files.
#pragma once

#include <libpq-fe.h>
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "fixture.hpp"
#include "totp/config.hpp"
#include "totp/store.hpp"

namespace pg_fixture {

// The database password, in password_file(); no log line may ever contain it.
inline constexpr const char* kPassword = "fleet-test-password";

void must(bool condition, const char* what);

// Runs `login` and returns what it returns. Not a timing check: a login that has not returned
// after 60 s ends the test program with a message, so that a hang fails the test.
int without_hanging(const std::function<int()>& login);

// Runs a shell command; returns its exit status and standard output.
std::pair<int, std::string> run(const std::string& command);

// CMocka group setup/teardown: the PAM sandbox (with the "login" service that
// fixture::start_pam_wrapper uses) and a started server. With `tls`, the
// server takes TCP connections only over TLS, with a certificate for localhost and
// 127.0.0.1 from a test CA (ca_file(); other_ca_file() is a CA that did not sign it).
int setup(void** state, bool tls = false);
int teardown(void** state);

const std::string& port();
std::string key_file();
std::string password_file();
std::string ca_file();
std::string other_ca_file();

// pg_server.sh ACTION on the server: "start", "stop", or "sql" with one statement (run as
// the superuser; no " or $ in it).
void server(const std::string& action, const std::string& sql = "");
std::string dump();

// A streaming standby of the server (pg_server.sh standby), started; returns its port.
// standby() and standby_query() are server() and query() on it; teardown stops it.
std::string start_standby();
void standby(const std::string& action, const std::string& sql = "");
std::string standby_query(const std::string& sql);

// PgBouncer as docs/examples/pgbouncer.ini sets it up (transaction pooling, a unix socket,
// TLS with verify-full to the server of setup(state, tls=true)), logging in as `role` with
// kPassword, at most `pool_size` server connections; returns its socket directory. Teardown
// stops it.
std::string start_pooler(const std::string& role, int pool_size);
// Runs one statement as the superuser (as server("sql", ...)); returns its rows, unaligned.
std::string query(const std::string& sql);

// Settings for the database store with `dsn`; state_dir is the sandbox's.
totp::Settings settings(const std::string& dsn);
// The same as PAM module arguments.
std::string module_args(const std::string& dsn);
// A login role with kPassword and the grants pam_totp.conf(5) documents as the minimal set.
void create_minimal_role(const std::string& role);
// A pam_totp.conf at `path` for the database at `dsn` (mode 0644), with the key and password
// files above and the sandbox's state_dir.
void write_store_config(const std::string& path, const std::string& dsn);
// `totp-enroll status USER --config CONFIG`, preloaded with stop_at.c so that it stops itself
// (SIGSTOP) at `point` as a user's `kill -STOP` on the setuid tool could catch it: "connected"
// (a connection, idle) or "locked" (inside its transaction, holding the row lock). Returns its
// pid and whether it stopped (false: it exited, e.g. refused a connection).
std::pair<pid_t, bool> enroll_stopped_at(const std::string& user, const char* point,
                                         const std::string& config);
// An admin session over `dsn` (with kPassword) that has run `lock_sql`, which begins a
// transaction and takes a lock: the lock is held until the session ends (reset() or scope).
struct SessionEnd {
    void operator()(PGconn* conn) const { PQfinish(conn); }
};
using Session = std::unique_ptr<PGconn, SessionEnd>;
Session hold_lock(const std::string& dsn, const std::string& lock_sql);
// Creates the schema (as totp-enroll db-upgrade does).
void create_schema(const std::string& dsn);
std::unique_ptr<totp::Store> open_store(const std::string& dsn);
std::unique_ptr<totp::ResetTokenStore> open_token_store(const std::string& dsn);
// Enrolls `user` in the database (as totp-enroll would) with a fresh random secret or
// `secret_base32`; returns the raw secret.
totp::SecretBytes enroll(const std::string& dsn, const std::string& user,
                         const std::string& secret_base32 = "");

}  // namespace pg_fixture
