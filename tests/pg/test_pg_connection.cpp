// SPDX-License-Identifier: Apache-2.0
// How the module reaches the database: TLS with sslmode=verify-full against a server that
// refuses anything but TLS, store_connect_timeout against a host that never answers, and
// the credentials (password file modes, a password in the DSN refused and never logged),
// and a lock held by someone else that must not hang a login.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <sstream>
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

// A TCP port that completes the handshake (the kernel does, into the backlog) and then
// never says anything: libpq waits for the server's first answer.
int g_silent_socket = -1;  // open, never accepting, until the process exits
int g_silent_port = 0;

// verify-full to "localhost", trusting `ca`; `password`, if any, in the URI.
std::string tls_dsn(const std::string& ca, const std::string& password = "") {
    const std::string login = password.empty() ? "postgres" : "postgres:" + password;
    return "postgresql://" + login + "@localhost:" + pg_fixture::port() +
           "/postgres?sslmode=verify-full&sslrootcert=" + ca;
}

std::string plain_dsn(const std::string& port) {
    return "postgresql://postgres@127.0.0.1:" + port + "/postgres?sslmode=disable";
}

totp::SecretBytes enroll_in_database(const std::string& user) {
    return pg_fixture::enroll(tls_dsn(pg_fixture::ca_file()), user);
}

int login(const std::string& service, const std::string& user, const totp::SecretBytes& secret) {
    const std::string code = fixture::code_at(secret, {}, fixture::kEpoch);
    return fixture::login(service, user, {fixture::password_of(user), code}).rc;
}

// The log lines that contain `text`.
std::vector<std::string> log_lines_with(const std::string& text) {
    std::istringstream log(fixture::read_log());
    std::vector<std::string> found;
    for (std::string line; std::getline(log, line);) {
        if (line.find(text) != std::string::npos) found.push_back(line);
    }
    return found;
}

// Exactly one line says the login failed closed for want of the store, and it says why.
void assert_one_failure_line_saying(const std::string& why) {
    const std::vector<std::string> lines = log_lines_with("failing closed");
    assert_int_equal(lines.size(), 1);
    if (lines[0].find(why) == std::string::npos) {
        std::fprintf(stderr, "log line: %s\nexpected it to say: %s\n", lines[0].c_str(),
                     why.c_str());
        fail();
    }
}

int guarded_login(const std::string& service, const totp::SecretBytes& secret) {
    return pg_fixture::without_hanging([&] { return login(service, "alice", secret); });
}

// --- TLS ---------------------------------------------------------------------------------

void logins_work_over_tls_verified_against_the_ca(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    assert_int_equal(login("tls", "alice", secret), 0);
    assert_int_equal(log_lines_with("failing closed").size(), 0);
}

void a_server_certificate_from_another_ca_fails_closed_with_one_line(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    assert_int_not_equal(login("tls_other_ca", "alice", secret), 0);
    assert_one_failure_line_saying("database unreachable");
    assert_one_failure_line_saying("certificate verify failed");
    assert_int_equal(login("tls", "alice", secret), 0);  // the code was not used up
}

void the_server_refuses_connections_without_tls(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    assert_int_not_equal(login("no_tls", "alice", secret), 0);
    assert_one_failure_line_saying("no encryption");
}

// --- Credentials -------------------------------------------------------------------------

// pam_totp.conf may be readable by others, so a password (or a client key's sslpassword) in
// store_dsn is refused; and libpq's messages would quote the pieces of a password in a mistyped URI
// as a host or port.
void a_password_in_the_dsn_is_refused_and_never_logged(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    for (const char* service :
         {"password_in_dsn", "password_in_dsn_other_ca", "password_with_at_in_dsn",
          "password_with_slash_in_dsn", "password_in_bad_dsn", "sslpassword_in_dsn"}) {
        assert_int_not_equal(login(service, "alice", secret), 0);
    }
    assert_int_equal(log_lines_with("failing closed").size(), 6);
    assert_int_equal(
        log_lines_with("store_dsn must not hold a password; use store_password_file").size(), 3);
    assert_int_equal(log_lines_with("store_dsn must not hold the client key's sslpassword").size(),
                     1);
    assert_int_equal(log_lines_with("store_dsn has a port that is not a number").size(), 1);
    assert_int_equal(log_lines_with("store_dsn is not a valid libpq connection string").size(), 1);
    for (const char* text : {pg_fixture::kPassword, "fleet-test", "pass-word"}) {
        assert_false(fixture::log_contains(text));
    }
    assert_int_equal(login("tls", "alice", secret), 0);
}

void a_password_file_readable_by_group_or_other_is_refused(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    for (const mode_t mode : {0640, 0604}) {
        must(chmod(pg_fixture::password_file().c_str(), mode) == 0, "chmod");
        const int rc = login("tls", "alice", secret);
        must(chmod(pg_fixture::password_file().c_str(), 0600) == 0, "chmod");
        assert_int_not_equal(rc, 0);
    }
    const std::vector<std::string> lines = log_lines_with("failing closed");
    assert_int_equal(lines.size(), 2);
    for (const std::string& line : lines) {
        assert_non_null(
            std::strstr(line.c_str(), ("store password file " + pg_fixture::password_file() +
                                       ": is accessible by group or other, refusing")
                                          .c_str()));
    }
    assert_int_equal(login("tls", "alice", secret), 0);
}

// --- Connect timeout ---------------------------------------------------------------------

void a_silent_database_host_fails_closed_after_the_connect_timeout(void**) {
    const totp::SecretBytes secret = fixture::enroll("alice");  // only in the file store
    assert_int_not_equal(guarded_login("silent", secret), 0);
    assert_one_failure_line_saying("database unreachable (store_connect_timeout 2 s)");
    assert_one_failure_line_saying("timeout expired");
}

// Measured, not only read from the log line: not before 3 s (less half a second, as libpq
// reads its clock in whole seconds; a 2 s timeout gives up at 2.0 s) and not after 3 s plus
// 5 s of slack for a loaded machine.
void the_connect_timeout_defaults_to_three_seconds(void**) {
    const totp::SecretBytes secret = fixture::enroll("alice");
    const auto start = std::chrono::steady_clock::now();
    assert_int_not_equal(guarded_login("silent_default", secret), 0);
    const std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
    if (waited.count() < 3.0 - 0.5 || waited.count() > 3.0 + 5.0) {
        fail_msg("the login gave up after %.2f s, expected the 3 s connect timeout",
                 waited.count());
    }
    assert_one_failure_line_saying("database unreachable (store_connect_timeout 3 s)");
    assert_one_failure_line_saying("timeout expired");
}

// --- Locks --------------------------------------------------------------------------------

// An admin (or anyone with the fleet role) holds the schema table, which every login reads
// before its transaction: the session's lock_timeout fails the login closed, where it would
// otherwise wait for as long as the lock is held.
void a_locked_schema_table_fails_the_login_closed_instead_of_hanging(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    pg_fixture::Session admin =
        pg_fixture::hold_lock(tls_dsn(pg_fixture::ca_file()),
                              "BEGIN; LOCK TABLE pam_totp_schema IN ACCESS EXCLUSIVE MODE");
    const int rc = guarded_login("tls", secret);
    admin.reset();
    assert_int_not_equal(rc, 0);
    assert_one_failure_line_saying("lock timeout (SQLSTATE 55P03)");
    assert_int_equal(login("tls", "alice", secret), 0);  // the code was not used up
}

// A statement that runs past the session's statement_timeout (7 s; here a trigger that
// sleeps on the write that records the login) is cancelled, and the login fails closed.
void a_statement_past_the_statement_timeout_fails_the_login_closed(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    pg_fixture::server("sql",
                       "CREATE FUNCTION slow_write() RETURNS trigger LANGUAGE plpgsql AS "
                       "'BEGIN PERFORM pg_sleep(60); RETURN NEW; END'");
    pg_fixture::server("sql",
                       "CREATE TRIGGER slow_write BEFORE UPDATE ON pam_totp_users "
                       "FOR EACH ROW EXECUTE FUNCTION slow_write()");
    const int rc = guarded_login("tls", secret);
    pg_fixture::server("sql", "DROP FUNCTION slow_write() CASCADE");
    assert_int_not_equal(rc, 0);
    assert_true(
        fixture::log_contains("canceling statement due to statement timeout (SQLSTATE 57014)"));
    assert_true(fixture::log_contains("failing closed"));
    assert_int_equal(login("tls", "alice", secret), 0);  // the code was not used up
}

// --- totp-check --store ------------------------------------------------------------------

std::string check_root() {
    return fixture::paths().root + "/check_root";
}

// totp-check --store --root with a config under the root whose store_dsn is `dsn`: its exit
// status and report. With `own_files`, the root has its own copy of the key and password
// files the config names.
std::pair<int, std::string> check_store(const std::string& dsn, bool own_files = true) {
    const std::string root = check_root();
    must(pg_fixture::run("mkdir -p " + root + "/etc/security").first == 0, "mkdir");
    pg_fixture::write_store_config(root + "/etc/security/pam_totp.conf", dsn);
    for (const std::string& file : {pg_fixture::key_file(), pg_fixture::password_file()}) {
        const std::string copy = root + file;
        const std::string command =
            own_files ? "mkdir -p $(dirname " + copy + ") && cp -p " + file + " " + copy
                      : "rm -f " + copy;
        must(pg_fixture::run(command).first == 0, "the root's key and password files");
    }
    return pg_fixture::run(std::string(TOTP_CHECK_PATH) + " --store --root " + root);
}

// A tree checked with --root (an image, a container) names its database in its own config:
// the host's password must not be sent there. Its files are read under the root, as the
// tree's servers would read them; a tree without them cannot connect.
void totp_check_store_with_root_reads_the_key_and_password_files_under_the_root(void**) {
    const auto [rc, report] = check_store(tls_dsn(pg_fixture::ca_file()), /*own_files=*/false);
    assert_int_equal(rc, 2);
    assert_null(std::strstr(report.c_str(), "schema version "));
    assert_non_null(std::strstr(report.c_str(), (check_root() + pg_fixture::key_file()).c_str()));
}

// A link in the tree may point anywhere on the host (an absolute link resolves against the
// host's /): a tree whose first directory on the way to its key file links to the host's
// own directory would have the host's key and password read and sent to the database the
// tree names. Refused before anything is opened or sent.
void totp_check_store_with_root_refuses_files_reached_through_a_link_out_of_the_root(void**) {
    const std::string root = check_root() + "_link";
    must(pg_fixture::run("rm -rf " + root + " && mkdir -p " + root + "/etc/security").first == 0,
         "mkdir");
    pg_fixture::write_store_config(root + "/etc/security/pam_totp.conf",
                                   tls_dsn(pg_fixture::ca_file()));
    const std::string key = pg_fixture::key_file();
    const std::string first = key.substr(0, key.find('/', 1));  // "/tmp", say
    must(pg_fixture::run("ln -s " + first + " " + root + first).first == 0, "link out of the tree");
    const auto [rc, report] =
        pg_fixture::run(std::string(TOTP_CHECK_PATH) + " --store --root " + root);
    pg_fixture::run("rm -f " + root + first);
    assert_int_equal(rc, 2);
    assert_null(std::strstr(report.c_str(), "schema version "));
    assert_non_null(std::strstr(report.c_str(), "leads out of the checked tree"));
}

// Without a password file of the tree's own, libpq would look for a password in the host's
// files (~/.pgpass of the root user running totp-check, a pg_service.conf entry the DSN
// names) and send it to the database the tree names. With --root, a password file is
// required; nothing is sent without one.
void totp_check_store_with_root_needs_the_trees_own_password_file(void**) {
    const std::string root = check_root() + "_nopass";
    must(pg_fixture::run("rm -rf " + root + " && mkdir -p " + root + "/etc/security").first == 0,
         "mkdir");
    fixture::write_file(
        root + "/etc/security/pam_totp.conf",
        "[global]\nstore = postgresql\nstore_dsn = " + tls_dsn(pg_fixture::ca_file()) +
            "\nstore_key_file = " + pg_fixture::key_file() + "\n",
        0644);
    must(pg_fixture::run("mkdir -p $(dirname " + root + pg_fixture::key_file() + ") && cp -p " +
                         pg_fixture::key_file() + " " + root + pg_fixture::key_file())
                 .first == 0,
         "the tree's key file");
    const auto [rc, report] =
        pg_fixture::run(std::string(TOTP_CHECK_PATH) + " --store --root " + root);
    assert_int_equal(rc, 2);
    assert_null(std::strstr(report.c_str(), "schema version "));
    assert_non_null(std::strstr(report.c_str(), "store_password_file"));
}

// The superuser over verify-full: schema and TLS are fine, the privileges are a finding.
// A role with exactly the documented grants over sslmode=require: the TLS mode is one.
void totp_check_store_reports_schema_privileges_tls_and_round_trip(void**) {
    const auto [superuser_rc, superuser] = check_store(tls_dsn(pg_fixture::ca_file()));
    assert_int_equal(superuser_rc, 1);
    assert_non_null(std::strstr(superuser.c_str(), "schema version "));
    assert_non_null(std::strstr(superuser.c_str(), "has more than the documented set: "));
    assert_non_null(std::strstr(superuser.c_str(), "superuser"));
    assert_non_null(std::strstr(superuser.c_str(), "sslmode=verify-full"));
    assert_non_null(std::strstr(superuser.c_str(), "round trip "));

    const std::string minimal =
        "postgresql://minimal@localhost:" + pg_fixture::port() + "/postgres?sslmode=require";
    const auto [minimal_rc, report] = check_store(minimal);
    assert_int_equal(minimal_rc, 1);
    assert_non_null(std::strstr(report.c_str(), "the role has the documented minimal set"));
    assert_non_null(std::strstr(report.c_str(), "sslmode=require (the server's certificate"));
}

// --- Setup -------------------------------------------------------------------------------

int open_silent_port() {
    g_silent_socket = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int fd = g_silent_socket;
    must(fd >= 0, "socket");
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    must(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0, "bind");
    must(listen(fd, 16) == 0, "listen");
    socklen_t length = sizeof address;
    must(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0, "getsockname");
    return ntohs(address.sin_port);
}

int group_setup(void** state) {
    pg_fixture::setup(state, /*tls=*/true);
    pg_fixture::create_schema(tls_dsn(pg_fixture::ca_file()));
    g_silent_port = open_silent_port();

    fixture::write_service("tls", pg_fixture::module_args(tls_dsn(pg_fixture::ca_file())));
    fixture::write_service("tls_other_ca",
                           pg_fixture::module_args(tls_dsn(pg_fixture::other_ca_file())));
    fixture::write_service("no_tls", pg_fixture::module_args(plain_dsn(pg_fixture::port())));
    const std::string key = " store=postgresql store_key_file=" + pg_fixture::key_file();
    fixture::write_service(
        "password_in_dsn",
        key + " store_dsn=" + tls_dsn(pg_fixture::ca_file(), pg_fixture::kPassword));
    fixture::write_service(
        "password_in_dsn_other_ca",
        key + " store_dsn=" + tls_dsn(pg_fixture::other_ca_file(), pg_fixture::kPassword));
    // The passphrase of a client key is a secret too.
    fixture::write_service("sslpassword_in_dsn",
                           key + " store_dsn=" + tls_dsn(pg_fixture::ca_file()) +
                               "&sslpassword=" + pg_fixture::kPassword);
    // Mistyped URIs that libpq parses with pieces of the password as a host and as a port.
    const std::string at_login = "postgres:fleet-test@pass-word";
    const std::string slash_login = "postgres:fleet-test/pass-word";
    const std::string tail = "@localhost:" + pg_fixture::port() +
                             "/postgres?sslmode=verify-full&sslrootcert=" + pg_fixture::ca_file();
    fixture::write_service("password_with_at_in_dsn",
                           key + " store_dsn=postgresql://" + at_login + tail);
    fixture::write_service("password_with_slash_in_dsn",
                           key + " store_dsn=postgresql://" + slash_login + tail);
    // %zz is no percent-encoding: libpq's own message would quote the password around it.
    fixture::write_service(
        "password_in_bad_dsn",
        key + " store_dsn=" +
            tls_dsn(pg_fixture::ca_file(), std::string(pg_fixture::kPassword) + "%zz"));
    const std::string silent = pg_fixture::module_args(plain_dsn(std::to_string(g_silent_port)));
    fixture::write_service("silent", silent + " store_connect_timeout=2");
    fixture::write_service("silent_default", silent);
    pg_fixture::create_minimal_role("minimal");
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(logins_work_over_tls_verified_against_the_ca, fixture::reset),
        cmocka_unit_test_setup(a_server_certificate_from_another_ca_fails_closed_with_one_line,
                               fixture::reset),
        cmocka_unit_test_setup(the_server_refuses_connections_without_tls, fixture::reset),
        cmocka_unit_test_setup(a_password_in_the_dsn_is_refused_and_never_logged, fixture::reset),
        cmocka_unit_test_setup(a_password_file_readable_by_group_or_other_is_refused,
                               fixture::reset),
        cmocka_unit_test_setup(a_silent_database_host_fails_closed_after_the_connect_timeout,
                               fixture::reset),
        cmocka_unit_test_setup(the_connect_timeout_defaults_to_three_seconds, fixture::reset),
        cmocka_unit_test_setup(a_locked_schema_table_fails_the_login_closed_instead_of_hanging,
                               fixture::reset),
        cmocka_unit_test_setup(a_statement_past_the_statement_timeout_fails_the_login_closed,
                               fixture::reset),
        cmocka_unit_test_setup(
            totp_check_store_with_root_reads_the_key_and_password_files_under_the_root,
            fixture::reset),
        cmocka_unit_test_setup(
            totp_check_store_with_root_refuses_files_reached_through_a_link_out_of_the_root,
            fixture::reset),
        cmocka_unit_test_setup(totp_check_store_with_root_needs_the_trees_own_password_file,
                               fixture::reset),
        cmocka_unit_test_setup(totp_check_store_reports_schema_privileges_tls_and_round_trip,
                               fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, pg_fixture::teardown);
}
