// SPDX-License-Identifier: Apache-2.0
// The fleet store against a real PostgreSQL server on loopback (tests/pg/pg_server.sh):
// two differently configured PAM services, "server A" and "server B", share one database
// through the module, and totp-enroll moves users between the stores.
#include <fcntl.h>
#include <security/pam_appl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "one_token.hpp"
#include "pg_fixture.hpp"
#include "totp/base32.hpp"
#include "totp/store_factory.hpp"

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

constexpr int kRacers = 12;  // half through server A, half through server B
constexpr int kMaxFailures = 8;

using pg_fixture::must;
using pg_fixture::run;
using pg_fixture::server;

std::string g_backend;  // TOTP_TEST_STORE_PG as the test started

std::string dsn(const std::string& database = "postgres") {
    return "postgresql://postgres@127.0.0.1:" + pg_fixture::port() + "/" + database +
           "?sslmode=disable";
}

std::unique_ptr<totp::Store> database() {
    return pg_fixture::open_store(dsn());
}

totp::SecretBytes enroll_in_database(const std::string& user, const std::string& base32 = "") {
    return pg_fixture::enroll(dsn(), user, base32);
}

totp::UserState database_state(const std::string& user) {
    auto store = database();
    auto record = store->open(user);
    must(record.ok() && (*record)->state().has_value(), "read record");
    return (*record)->state()->clone();
}

std::string code(const totp::SecretBytes& secret, std::int64_t when = fixture::kEpoch) {
    return fixture::code_at(secret, {}, when);
}

int login(const std::string& service, const std::string& user, const std::string& answer) {
    return fixture::login(service, user, {fixture::password_of(user), answer}).rc;
}

// `processes` logins at once, alternately on server A and B; how many succeeded.
int race(const std::string& user, const std::vector<std::string>& codes, int processes = kRacers) {
    return fixture::race(processes, [&](int i) {
        const std::string& answer = codes[static_cast<std::size_t>(i) % codes.size()];
        return login(i % 2 == 0 ? "server_a" : "server_b", user, answer) == 0;
    });
}

// --- Tests -------------------------------------------------------------------------------

void a_code_used_on_server_a_is_refused_on_server_b(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    assert_int_equal(login("server_a", "alice", code(secret)), 0);
    assert_int_not_equal(login("server_b", "alice", code(secret)), 0);

    fixture::set_now(fixture::kEpoch + 30);
    assert_int_equal(login("server_b", "alice", code(secret, fixture::kEpoch + 30)), 0);
    assert_int_not_equal(login("server_a", "alice", code(secret, fixture::kEpoch + 30)), 0);
}

void racing_servers_accept_one_code_exactly_once(void**) {
    const totp::SecretBytes secret = enroll_in_database("bob");
    assert_int_equal(race("bob", {code(secret)}), 1);
    assert_int_equal(*one_token(database_state("bob")).last_step, fixture::kEpoch / 30);
}

void concurrent_wrong_codes_count_exactly_and_lock_out_every_server(void**) {
    const totp::SecretBytes secret = enroll_in_database("carol");
    const std::string right = code(secret);
    const std::string wrong = fixture::wrong_code(secret, fixture::kEpoch);
    assert_int_equal(race("carol", {wrong}, kMaxFailures - 2), 0);
    assert_int_equal(database_state("carol").failures, kMaxFailures - 2);
    assert_int_equal(database_state("carol").locked_until, 0);

    // The attempt that reaches kMaxFailures locks the user; the rest are refused uncounted.
    assert_int_equal(race("carol", {wrong}, kMaxFailures - 2), 0);
    assert_int_equal(database_state("carol").failures, kMaxFailures);
    assert_true(database_state("carol").locked_until > fixture::kEpoch);
    assert_int_not_equal(login("server_a", "carol", right), 0);
    assert_int_not_equal(login("server_b", "carol", right), 0);
    assert_false(one_token(database_state("carol")).last_step.has_value());
}

void database_down_fails_closed_and_recovers(void**) {
    const totp::SecretBytes secret = enroll_in_database("dave");
    const totp::SecretBytes local_dave = fixture::enroll("dave");  // not break-glass
    const totp::SecretBytes local = fixture::enroll("erin");       // break-glass
    server("stop");
    assert_int_not_equal(login("server_a", "dave", code(secret)), 0);
    assert_true(fixture::log_contains("cannot use state (database unreachable"));
    assert_int_not_equal(login("break_glass", "dave", code(secret)), 0);
    assert_int_not_equal(login("break_glass", "dave", code(local_dave)), 0);
    assert_false(fixture::log_contains("using the local file store"));
    assert_int_equal(login("break_glass", "erin", code(local)), 0);
    assert_true(fixture::log_contains("using the local file store for break-glass user erin"));
    server("start");

    const totp::UserState after = database_state("dave");
    assert_false(one_token(after).last_step.has_value());
    assert_int_equal(after.failures, 0);
    assert_int_equal(login("server_b", "dave", code(secret)), 0);
}

// Break-glass never means "no code": with nullok, a user who is not enrolled gets in with the
// password alone, and anyone on the network path can make the database unreachable (a
// forged certificate will do). A break-glass user without a local record fails closed.
void a_break_glass_user_without_a_local_record_is_refused_while_the_database_is_down(void**) {
    const totp::SecretBytes secret = enroll_in_database("erin");
    server("stop");
    const int rc = login("break_glass_nullok", "erin", code(secret));
    totp::Settings break_glass = pg_fixture::settings(dsn());
    break_glass.store_fallback_users = "erin";
    auto store = totp::make_store(break_glass);
    must(store.ok(), "make_store");
    const auto enrolled = (*store)->enrolled("erin");
    const auto record = (*store)->open("erin");
    server("start");
    assert_int_equal(rc, PAM_AUTH_ERR);
    assert_true(fixture::log_contains("break-glass user erin has no local record"));
    assert_true(fixture::log_contains("failing closed"));
    assert_false(enrolled.ok());
    assert_false(record.ok());
    assert_int_equal(login("break_glass_nullok", "erin", code(secret)), 0);  // database back
}

void a_break_glass_user_with_a_local_record_still_needs_its_code(void**) {
    enroll_in_database("erin");
    const totp::SecretBytes local = fixture::enroll("erin");
    const std::string right = code(local);
    server("stop");
    const int wrong_rc =
        login("break_glass_nullok", "erin", fixture::wrong_code(local, fixture::kEpoch));
    const int right_rc = login("break_glass_nullok", "erin", right);
    server("start");
    assert_int_equal(wrong_rc, PAM_AUTH_ERR);
    assert_int_equal(right_rc, 0);
    assert_true(fixture::log_contains("using the local file store for break-glass user erin"));
}

// A server without the backend package is like one that cannot reach the database:
// break-glass users log in from their local records, with their codes; everyone else fails
// closed with a line that says what is missing.
void a_missing_backend_lets_only_break_glass_users_in_from_local_records(void**) {
    const totp::SecretBytes erin = fixture::enroll("erin");
    const totp::SecretBytes dave = fixture::enroll("dave");
    setenv("TOTP_TEST_STORE_PG", "/nonexistent/pam_totp_store_pg.so", 1);
    const int erin_rc = login("break_glass_nullok", "erin", code(erin));
    const int dave_rc = login("break_glass_nullok", "dave", code(dave));
    const int no_fallback_rc = login("server_a", "erin", code(erin, fixture::kEpoch + 30));
    const int erin_wrong_rc =
        login("break_glass", "erin", fixture::wrong_code(erin, fixture::kEpoch));
    setenv("TOTP_TEST_STORE_PG", g_backend.c_str(), 1);
    assert_int_equal(erin_rc, 0);
    assert_true(fixture::log_contains("using the local file store for break-glass user erin"));
    assert_int_equal(dave_rc, PAM_AUTH_ERR);
    assert_int_equal(no_fallback_rc, PAM_AUTH_ERR);
    assert_int_equal(erin_wrong_rc, PAM_AUTH_ERR);
    assert_true(fixture::log_contains("is the PostgreSQL backend package installed?"));
}

// Break-glass is for a database that no server answers. One that answers and refuses the
// login (here: a password the role does not have, as after ALTER ROLE ... PASSWORD by root on
// any one server) fails closed, so that nobody can push break-glass users onto local files.
void a_refused_connection_does_not_fall_back_to_the_file_store(void**) {
    const totp::SecretBytes local = fixture::enroll("erin");
    assert_int_not_equal(login("break_glass_wrong_password", "erin", code(local)), 0);
    assert_true(fixture::log_contains("cannot use state (database refused the connection: "));
    assert_true(fixture::log_contains("password authentication failed"));
    assert_false(fixture::log_contains("using the local file store"));
}

// Break-glass is for a database that cannot be reached. One that answers but fails the
// query (here: its table renamed by an admin) fails closed for everyone.
void a_failing_query_does_not_fall_back_to_the_file_store(void**) {
    const totp::SecretBytes secret = enroll_in_database("erin");
    const totp::SecretBytes local = fixture::enroll("erin");
    server("sql", "ALTER TABLE pam_totp_users RENAME TO pam_totp_users_moved");
    const int rc = login("break_glass", "erin", code(local));
    server("sql", "ALTER TABLE pam_totp_users_moved RENAME TO pam_totp_users");
    assert_int_not_equal(rc, 0);
    assert_true(fixture::log_contains("cannot use state (database read failed"));
    assert_false(fixture::log_contains("using the local file store"));
    assert_int_equal(login("break_glass", "erin", code(secret)), 0);  // the database works again
    assert_int_equal(*one_token(database_state("erin")).last_step, fixture::kEpoch / 30);
}

// A failing statement logs the server's primary message and SQLSTATE only, printable: not
// its DETAIL ("Failing row contains (...)" quotes the user's row) nor the server's control
// bytes (here an ESC and a CR in a constraint name).
void a_query_error_is_logged_as_one_printable_line_without_detail(void**) {
    const totp::SecretBytes secret = enroll_in_database("erin");
    server("sql",
           "DO 'BEGIN EXECUTE format(''ALTER TABLE pam_totp_users ADD CONSTRAINT %I "
           "CHECK (last_step IS NULL) NOT VALID'', E''no_steps\\x1b[31m\\rforged''); END'");
    const int rc = login("server_a", "erin", code(secret));
    server("sql",
           "DO 'BEGIN EXECUTE (SELECT format(''ALTER TABLE pam_totp_users DROP CONSTRAINT %I'', "
           "conname) FROM pg_constraint WHERE conname LIKE ''no_steps%''); END'");
    assert_int_not_equal(rc, 0);
    assert_true(fixture::log_contains(
        "cannot record the attempt (database write failed: new row for relation "
        "\"pam_totp_users\" violates check constraint \"no_steps?[31m?forged\" (SQLSTATE 23514))"));
    const std::string log = fixture::read_log();
    assert_int_equal(log.find("Failing row"), std::string::npos);
    assert_int_equal(log.find('\x1b'), std::string::npos);
    assert_int_equal(log.find('\r'), std::string::npos);
}

// The module appends its timeouts to the DSN's own server options rather than replacing
// them: here the DSN makes every transaction read-only, so the login cannot be recorded.
void the_dsns_own_server_options_are_kept(void**) {
    const totp::SecretBytes secret = enroll_in_database("erin");
    assert_int_not_equal(login("read_only", "erin", code(secret)), 0);
    assert_true(fixture::log_contains("in a read-only transaction (SQLSTATE 25006)"));
    assert_int_equal(login("server_a", "erin", code(secret)), 0);
}

// Neither does a record the key does not open (another key file, or a tampered row).
void a_record_that_does_not_decrypt_does_not_fall_back(void**) {
    enroll_in_database("erin");
    const totp::SecretBytes local = fixture::enroll("erin");
    assert_int_not_equal(login("break_glass_other_key", "erin", code(local)), 0);
    assert_true(fixture::log_contains("cannot use state (database record of erin"));
    assert_false(fixture::log_contains("using the local file store"));
}

void database_dump_holds_no_plaintext_secret(void**) {
    const std::string base32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    const totp::SecretBytes secret = enroll_in_database("erin", base32);
    std::string hex;
    for (std::size_t i = 0; i < secret.size(); ++i) {
        char byte[3];
        std::snprintf(byte, sizeof byte, "%02x", secret.data()[i]);
        hex += byte;
    }
    const std::string dump = pg_fixture::dump();
    assert_non_null(std::strstr(dump.c_str(), "pam_totp_users"));
    assert_non_null(std::strstr(dump.c_str(), "erin"));
    assert_null(std::strstr(dump.c_str(), base32.c_str()));
    assert_null(std::strstr(dump.c_str(), hex.c_str()));
    assert_int_equal(login("server_a", "erin", code(secret)), 0);
}

void a_secret_copied_into_another_users_row_does_not_decrypt(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    enroll_in_database("bob");
    server("sql",
           "UPDATE pam_totp_users SET secret = (SELECT secret FROM pam_totp_users "
           "WHERE username = 'alice') WHERE username = 'bob'");
    auto store = database();
    auto record = store->open("bob");
    assert_false(record.ok());
    assert_int_equal(static_cast<int>(record.error().code), static_cast<int>(totp::Errc::corrupt));
    assert_int_not_equal(login("server_a", "bob", code(secret)), 0);
}

void unsafe_key_file_and_libpq_environment_are_refused(void**) {
    const totp::SecretBytes secret = enroll_in_database("alice");
    must(chmod(pg_fixture::key_file().c_str(), 0644) == 0, "chmod key");
    auto readable_key = totp::make_store(pg_fixture::settings(dsn()));
    must(chmod(pg_fixture::key_file().c_str(), 0600) == 0, "chmod key");
    assert_false(readable_key.ok());
    assert_int_equal(static_cast<int>(readable_key.error().code),
                     static_cast<int>(totp::Errc::unsafe));

    setenv("PGHOST", "203.0.113.1", 1);
    auto store = database();
    auto record = store->open("alice");
    unsetenv("PGHOST");
    assert_false(record.ok());
    assert_non_null(std::strstr(record.error().message.c_str(), "PGHOST"));
    assert_int_equal(login("server_a", "alice", code(secret)), 0);
}

std::pair<int, std::string> enroll_tool(const std::string& args) {
    return run(std::string(TOTP_ENROLL_PATH) + " " + args + " 2>&1");
}

void migration_round_trips_every_user(void**) {
    const std::string files_conf = fixture::paths().root + "/files.conf";
    const std::string pg_conf = fixture::paths().root + "/pg.conf";
    const std::string common = "state_dir = " + fixture::paths().state_dir +
                               "\nstore_dsn = " + dsn("migrate") +
                               "\nstore_key_file = " + pg_fixture::key_file() +
                               "\nstore_password_file = " + pg_fixture::password_file() + "\n";
    fixture::write_file(files_conf, "[global]\nstore = files\n" + common, 0644);
    fixture::write_file(pg_conf, "[global]\nstore = postgresql\n" + common, 0644);
    server("sql", "CREATE DATABASE migrate");
    auto [upgraded, upgrade_out] = enroll_tool("db-upgrade --config " + pg_conf);
    assert_int_equal(upgraded, 0);
    assert_non_null(std::strstr(upgrade_out.c_str(), "created at version"));

    const std::vector<std::string> users = {"alice", "bob", "carol"};
    std::vector<totp::SecretBytes> secrets;
    for (const std::string& user : users) {
        secrets.push_back(fixture::enroll(user, {}, {"abcd-efgh-ijkl"}));
    }
    assert_int_equal(login("files", "alice", code(secrets[0])), 0);  // sets last_step
    const auto [listed, before] = enroll_tool("list --config " + files_conf);
    assert_int_equal(listed, 0);

    auto [to_db, to_db_out] = enroll_tool("migrate --to postgresql --config " + files_conf);
    assert_int_equal(to_db, 0);
    for (const std::string& user : users) {
        assert_non_null(std::strstr(to_db_out.c_str(), ("copied " + user).c_str()));
    }
    assert_string_equal(enroll_tool("list --config " + pg_conf).second.c_str(), before.c_str());

    must(run("rm -f " + fixture::paths().state_dir + "/*").first == 0, "empty the file store");
    auto [to_files, to_files_out] = enroll_tool("migrate --to files --config " + pg_conf);
    assert_int_equal(to_files, 0);
    for (const std::string& user : users) {
        assert_non_null(std::strstr(to_files_out.c_str(), ("copied " + user).c_str()));
    }
    assert_string_equal(enroll_tool("list --config " + files_conf).second.c_str(), before.c_str());

    // The secrets and the replay state came back too.
    assert_int_equal(*one_token(fixture::read_state("alice")).last_step, fixture::kEpoch / 30);
    assert_int_not_equal(login("files", "alice", code(secrets[0])), 0);
    fixture::set_now(fixture::kEpoch + 30);
    for (std::size_t i = 0; i < users.size(); ++i) {
        assert_int_equal(login("files", users[i], code(secrets[i], fixture::kEpoch + 30)), 0);
    }
}

totp::Status save_email_mails(const std::string& user, std::uint32_t mails) {
    auto store = database();
    auto record = store->open(user);
    must(record.ok() && (*record)->state().has_value(), "read record");
    totp::UserState state = (*record)->state()->clone();
    state.email_mails = mails;
    state.email_mails_since = fixture::kEpoch;
    return (*record)->save(state);
}

// Servers are upgraded before the schema: a server on this build keeps logging users in on
// a database still at schema 1 (a fleet half upgraded has no outage), refuses only what
// schema 1 cannot hold (the count of verification mails) with a line saying what to do, and
// after db-upgrade the count is kept. Runs last: it takes the shared database down to 1.
void a_version_1_database_keeps_working_until_upgraded(void**) {
    server("sql",
           "ALTER TABLE pam_totp_users DROP COLUMN email_mails, DROP COLUMN email_mails_since, "
           "DROP COLUMN authenticators; UPDATE pam_totp_schema SET version = 1");
    const totp::SecretBytes secret = enroll_in_database("alice");
    assert_int_equal(login("server_a", "alice", code(secret)), 0);
    assert_int_not_equal(login("server_b", "alice", code(secret)), 0);  // replay, fleet-wide

    const totp::Status refused = save_email_mails("alice", 1);
    assert_false(refused.ok());
    assert_int_equal(static_cast<int>(refused.error().code),
                     static_cast<int>(totp::Errc::unsupported));
    assert_non_null(std::strstr(refused.error().message.c_str(), "totp-enroll db-upgrade"));

    pg_fixture::create_schema(dsn());  // db-upgrade: 1 -> 2
    assert_true(save_email_mails("alice", 3).ok());
    assert_int_equal(database_state("alice").email_mails, 3);
    fixture::set_now(fixture::kEpoch + 30);
    assert_int_equal(login("server_b", "alice", code(secret, fixture::kEpoch + 30)), 0);
    assert_int_equal(database_state("alice").email_mails, 3);  // a login keeps it
}

totp::Status add_hotp_token(const std::string& user, const totp::SecretBytes& secret) {
    auto store = database();
    auto record = store->open(user);
    must(record.ok() && (*record)->state().has_value(), "read record");
    totp::UserState state = (*record)->state()->clone();
    totp::Authenticator token;
    token.name = "yubikey";
    token.type = totp::OtpType::hotp;
    token.secret = secret.clone();
    token.counter = 5;
    must(totp::add_authenticator(state, std::move(token), 8).ok(), "add authenticator");
    return (*record)->save(state);
}

// The authenticators column is compared as read: of servers racing with one HOTP code,
// exactly one moves the counter.
void racing_servers_accept_one_hotp_code_exactly_once(void**) {
    enroll_in_database("alice");
    totp::SecretBytes token_secret(20);
    for (std::size_t i = 0; i < token_secret.size(); ++i)
        token_secret.data()[i] = static_cast<std::uint8_t>(0x20 + i);
    assert_true(add_hotp_token("alice", token_secret).ok());
    const std::string pressed =
        std::string(totp::hotp(token_secret, 6, totp::Algorithm::sha1, 6)->view());
    assert_int_equal(race("alice", {pressed}), 1);
    assert_true(database_state("alice").authenticators[1].counter == 7u);
}

// A row written before schema 3 (one TOTP authenticator in its columns) is read as
// "default"; a second authenticator is refused with a line saying to upgrade the schema,
// kept after db-upgrade, and replay of an HOTP code is refused fleet-wide. Runs last, after
// the test above brought the schema back to the newest.
void a_version_2_row_is_read_and_after_upgrade_holds_several_authenticators(void**) {
    server("sql",
           "ALTER TABLE pam_totp_users DROP COLUMN authenticators; "
           "UPDATE pam_totp_schema SET version = 2");
    const totp::SecretBytes secret = enroll_in_database("alice");
    assert_int_equal(login("server_a", "alice", code(secret)), 0);
    totp::SecretBytes token_secret(20);
    for (std::size_t i = 0; i < token_secret.size(); ++i)
        token_secret.data()[i] = static_cast<std::uint8_t>(0x40 + i);
    const totp::Status refused = add_hotp_token("alice", token_secret);
    assert_false(refused.ok());
    assert_int_equal(static_cast<int>(refused.error().code),
                     static_cast<int>(totp::Errc::unsupported));
    assert_non_null(std::strstr(refused.error().message.c_str(), "totp-enroll db-upgrade"));

    pg_fixture::create_schema(dsn());  // db-upgrade: 2 -> 3
    totp::UserState before = database_state("alice");
    assert_int_equal(before.authenticators.size(), 1);
    assert_string_equal(before.authenticators[0].name.c_str(), "default");
    assert_true(add_hotp_token("alice", token_secret).ok());

    const std::string pressed =
        std::string(totp::hotp(token_secret, 7, totp::Algorithm::sha1, 6)->view());
    assert_int_equal(login("server_b", "alice", pressed), 0);
    assert_int_not_equal(login("server_a", "alice", pressed), 0);  // replay, fleet-wide
    const totp::UserState after = database_state("alice");
    assert_int_equal(after.authenticators.size(), 2);
    assert_true(after.authenticators[1].counter == 8u);
    assert_true(after.authenticators[0].last_step == one_token(before).last_step);
    fixture::set_now(fixture::kEpoch + 30);
    assert_int_equal(login("server_a", "alice", code(secret, fixture::kEpoch + 30)), 0);
}

// --- Setup -------------------------------------------------------------------------------

int group_setup(void** state) {
    pg_fixture::setup(state);
    must(std::getenv("TOTP_TEST_STORE_PG") != nullptr, "TOTP_TEST_STORE_PG");
    g_backend = std::getenv("TOTP_TEST_STORE_PG");
    pg_fixture::create_schema(dsn());
    const std::string store_args = pg_fixture::module_args(dsn());
    const std::string limits = " max_failures=" + std::to_string(kMaxFailures);
    fixture::write_service("server_a", store_args + limits);
    // Server B: its own local state directory and a wider window, the same database.
    must(mkdir((fixture::paths().root + "/state_b").c_str(), 0700) == 0, "mkdir state_b");
    fixture::write_service("server_b", store_args + limits + " window=2 state_dir=" +
                                           fixture::paths().root + "/state_b");
    fixture::write_service("break_glass", store_args + limits + " store_fallback_users=erin");
    fixture::write_service("break_glass_nullok",
                           store_args + limits + " nullok store_fallback_users=erin");
    const std::string other_key = fixture::paths().root + "/other.key";
    fixture::write_file(other_key, std::string(64, 'a') + "\n");
    fixture::write_service("break_glass_other_key", store_args + limits + " store_key_file=" +
                                                        other_key + " store_fallback_users=erin");
    const std::string wrong_password = fixture::paths().root + "/wrong.password";
    fixture::write_file(wrong_password, "not-the-password\n");
    fixture::write_service("break_glass_wrong_password",
                           store_args + limits + " store_password_file=" + wrong_password +
                               " store_fallback_users=erin");
    fixture::write_service(
        "read_only",
        pg_fixture::module_args(dsn() + "&options=-c%20default_transaction_read_only%3Don"));
    fixture::write_service("files", limits);
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_code_used_on_server_a_is_refused_on_server_b, fixture::reset),
        cmocka_unit_test_setup(racing_servers_accept_one_code_exactly_once, fixture::reset),
        cmocka_unit_test_setup(concurrent_wrong_codes_count_exactly_and_lock_out_every_server,
                               fixture::reset),
        cmocka_unit_test_setup(database_down_fails_closed_and_recovers, fixture::reset),
        cmocka_unit_test_setup(
            a_break_glass_user_without_a_local_record_is_refused_while_the_database_is_down,
            fixture::reset),
        cmocka_unit_test_setup(a_break_glass_user_with_a_local_record_still_needs_its_code,
                               fixture::reset),
        cmocka_unit_test_setup(a_missing_backend_lets_only_break_glass_users_in_from_local_records,
                               fixture::reset),
        cmocka_unit_test_setup(a_refused_connection_does_not_fall_back_to_the_file_store,
                               fixture::reset),
        cmocka_unit_test_setup(a_failing_query_does_not_fall_back_to_the_file_store,
                               fixture::reset),
        cmocka_unit_test_setup(a_record_that_does_not_decrypt_does_not_fall_back, fixture::reset),
        cmocka_unit_test_setup(the_dsns_own_server_options_are_kept, fixture::reset),
        cmocka_unit_test_setup(a_query_error_is_logged_as_one_printable_line_without_detail,
                               fixture::reset),
        cmocka_unit_test_setup(database_dump_holds_no_plaintext_secret, fixture::reset),
        cmocka_unit_test_setup(a_secret_copied_into_another_users_row_does_not_decrypt,
                               fixture::reset),
        cmocka_unit_test_setup(unsafe_key_file_and_libpq_environment_are_refused, fixture::reset),
        cmocka_unit_test_setup(migration_round_trips_every_user, fixture::reset),
        cmocka_unit_test_setup(racing_servers_accept_one_hotp_code_exactly_once, fixture::reset),
        cmocka_unit_test_setup(a_version_1_database_keeps_working_until_upgraded, fixture::reset),
        cmocka_unit_test_setup(
            a_version_2_row_is_read_and_after_upgrade_holds_several_authenticators, fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, pg_fixture::teardown);
}
