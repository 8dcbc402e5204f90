// The fleet store against a real PostgreSQL server on loopback (tests/pg/pg_server.sh):
// two differently configured PAM services, "server A" and "server B", share one database
// through the module, and totp-enroll moves users between the stores.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "fixture.hpp"
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

struct Server {
    std::string dir;  // data, socket and log; owned by postgres
    std::string port;
    std::string key_file;
    std::string password_file;
};
Server g_server;

std::string server_script() {
    return std::string(TOTP_PG_TESTS_DIR) + "/pg_server.sh";
}

void must(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fleet test setup failed: %s\n", what);
        std::abort();
    }
}

// Runs a shell command; returns its exit status and standard output.
std::pair<int, std::string> run(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");
    must(pipe != nullptr, "popen");
    std::string out;
    char buffer[4096];
    std::size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void server(const std::string& action, const std::string& sql = "") {
    const std::string extra = sql.empty() ? "" : " \"" + sql + "\"";  // no " or $ in sql
    must(run(server_script() + " " + action + " " + g_server.dir + extra).first == 0,
         action.c_str());
}

std::string dsn(const std::string& database = "postgres") {
    return "postgresql://postgres@127.0.0.1:" + g_server.port + "/" + database + "?sslmode=disable";
}

std::string store_args(const std::string& database = "postgres") {
    return "store=postgresql store_dsn=" + dsn(database) + " store_key_file=" + g_server.key_file +
           " store_password_file=" + g_server.password_file;
}

totp::Settings store_settings() {
    totp::Settings settings;
    settings.state_dir = fixture::paths().state_dir;
    settings.store = "postgresql";
    settings.store_dsn = dsn();
    settings.store_key_file = g_server.key_file;
    settings.store_password_file = g_server.password_file;
    return settings;
}

std::unique_ptr<totp::Store> database() {
    auto store = totp::make_store(store_settings());
    must(store.ok(), "make_store");
    return std::move(*store);
}

// Enrolls `user` in the database (as totp-enroll would); returns the secret.
totp::SecretBytes enroll_in_database(const std::string& user, const std::string& base32 = "") {
    totp::UserState state;
    state.secret = totp::SecretBytes(20);
    if (base32.empty()) {
        must(totp::random_bytes(state.secret.data(), state.secret.size()), "random");
    } else {
        state.secret = std::move(totp::base32_decode(base32).value());
    }
    state.created = fixture::kEpoch;
    auto store = database();
    auto record = store->open(user);
    must(record.ok(), "open record");
    must((*record)->save(state).ok(), "save record");
    return state.secret.clone();
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

// Forks `processes` children, alternately on server A and B, that all submit their code at
// once. Returns how many got PAM_SUCCESS.
int race(const std::string& user, const std::vector<std::string>& codes, int processes = kRacers) {
    int gate[2];
    assert_int_equal(pipe(gate), 0);
    const std::string init_lock = fixture::paths().root + "/pam_wrapper.lock";
    std::vector<pid_t> children;
    for (int i = 0; i < processes; ++i) {
        const pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(gate[1]);
            // pam_wrapper sets itself up again in each forked child; two at once can clash.
            const int lock = open(init_lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
            if (lock < 0 || flock(lock, LOCK_EX) != 0) _exit(98);
            fixture::start_pam_wrapper();
            close(lock);
            char go;
            if (read(gate[0], &go, 1) != 0) _exit(99);
            const int rc = login(i % 2 == 0 ? "server_a" : "server_b", user,
                                 codes[static_cast<std::size_t>(i) % codes.size()]);
            fixture::remove_pam_wrapper_dir();
            _exit(rc == 0 ? 0 : 1);
        }
        children.push_back(pid);
    }
    close(gate[0]);
    close(gate[1]);
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
    assert_int_equal(*database_state("bob").last_step, fixture::kEpoch / 30);
}

void concurrent_wrong_codes_count_exactly_and_lock_out_every_server(void**) {
    const totp::SecretBytes secret = enroll_in_database("carol");
    const std::string right = code(secret);
    const std::string wrong = right == "000000" ? "111111" : "000000";
    assert_int_equal(race("carol", {wrong}, kMaxFailures - 2), 0);
    assert_int_equal(database_state("carol").failures, kMaxFailures - 2);
    assert_int_equal(database_state("carol").locked_until, 0);

    // The attempt that reaches kMaxFailures locks the user; the rest are refused uncounted.
    assert_int_equal(race("carol", {wrong}, kMaxFailures - 2), 0);
    assert_int_equal(database_state("carol").failures, kMaxFailures);
    assert_true(database_state("carol").locked_until > fixture::kEpoch);
    assert_int_not_equal(login("server_a", "carol", right), 0);
    assert_int_not_equal(login("server_b", "carol", right), 0);
    assert_false(database_state("carol").last_step.has_value());
}

void database_down_fails_closed_and_recovers(void**) {
    const totp::SecretBytes secret = enroll_in_database("dave");
    const totp::SecretBytes local = fixture::enroll("erin");  // break-glass, file store only
    server("stop");
    assert_int_not_equal(login("server_a", "dave", code(secret)), 0);
    assert_true(fixture::log_contains("database unreachable"));
    assert_int_not_equal(login("break_glass", "dave", code(secret)), 0);
    assert_int_equal(login("break_glass", "erin", code(local)), 0);
    server("start");

    const totp::UserState after = database_state("dave");
    assert_false(after.last_step.has_value());
    assert_int_equal(after.failures, 0);
    assert_int_equal(login("server_b", "dave", code(secret)), 0);
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
    const auto [rc, dump] = run(server_script() + " dump " + g_server.dir);
    assert_int_equal(rc, 0);
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
    must(chmod(g_server.key_file.c_str(), 0644) == 0, "chmod key");
    auto readable_key = totp::make_store(store_settings());
    must(chmod(g_server.key_file.c_str(), 0600) == 0, "chmod key");
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
                               "\nstore_key_file = " + g_server.key_file +
                               "\nstore_password_file = " + g_server.password_file + "\n";
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
    assert_int_equal(*fixture::read_state("alice").last_step, fixture::kEpoch / 30);
    assert_int_not_equal(login("files", "alice", code(secrets[0])), 0);
    fixture::set_now(fixture::kEpoch + 30);
    for (std::size_t i = 0; i < users.size(); ++i) {
        assert_int_equal(login("files", users[i], code(secrets[i], fixture::kEpoch + 30)), 0);
    }
}

// Not a pass/fail check: prints the cost of one whole login (password and code) with the
// database on loopback next to the file store, for the benchmark table.
void per_login_cost_is_reported(void**) {
    constexpr int kLogins = 40;
    const totp::SecretBytes in_database = enroll_in_database("erin");
    const totp::SecretBytes in_files = fixture::enroll("erin");
    for (const char* service : {"files", "server_a"}) {
        const totp::SecretBytes& secret = std::string(service) == "files" ? in_files : in_database;
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < kLogins; ++i) {
            const std::int64_t when = fixture::kEpoch + 3600 + 30 * i;
            fixture::set_now(when);
            assert_int_equal(login(service, "erin", code(secret, when)), 0);
        }
        const std::chrono::duration<double, std::milli> spent =
            std::chrono::steady_clock::now() - start;
        std::printf("per-login cost, %s store: %.2f ms\n",
                    std::string(service) == "files" ? "file" : "PostgreSQL (loopback)",
                    spent.count() / kLogins);
    }
}

// --- Setup -------------------------------------------------------------------------------

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    char dir[] = "/tmp/pam_totp_pg.XXXXXX";
    must(mkdtemp(dir) != nullptr, "mkdtemp");
    must(chmod(dir, 0711) == 0, "chmod");
    g_server.dir = std::string(dir) + "/server";
    g_server.key_file = fixture::paths().root + "/store.key";
    g_server.password_file = fixture::paths().root + "/store.password";
    fixture::write_file(g_server.key_file,
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    fixture::write_file(g_server.password_file, "fleet-test-password\n");

    auto [rc, port] = run(server_script() + " init " + g_server.dir + " " + g_server.password_file);
    must(rc == 0 && !port.empty(), "initdb");
    g_server.port = port.substr(0, port.find('\n'));
    server("start");
    auto upgraded = totp::upgrade_postgresql_schema(store_settings());
    if (!upgraded) std::fprintf(stderr, "%s\n", upgraded.error().message.c_str());
    must(upgraded.ok(), "db-upgrade");

    const std::string limits = " max_failures=" + std::to_string(kMaxFailures);
    fixture::write_service("server_a", store_args() + limits);
    // Server B: its own local state directory and a wider window, the same database.
    must(mkdir((fixture::paths().root + "/state_b").c_str(), 0700) == 0, "mkdir state_b");
    fixture::write_service("server_b", store_args() + limits + " window=2 state_dir=" +
                                           fixture::paths().root + "/state_b");
    fixture::write_service("break_glass", store_args() + limits + " store_fallback_users=erin");
    fixture::write_service("files", limits);
    fixture::write_service("login", "");  // fixture::start_pam_wrapper's service
    return 0;
}

int group_teardown(void** state) {
    if (!g_server.dir.empty()) run(server_script() + " stop " + g_server.dir + " 2>/dev/null");
    if (std::getenv("TOTP_TEST_KEEP") == nullptr && !g_server.dir.empty()) {
        run("rm -rf " + g_server.dir.substr(0, g_server.dir.rfind('/')));
    }
    return fixture::teardown_sandbox(state);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(a_code_used_on_server_a_is_refused_on_server_b, fixture::reset),
        cmocka_unit_test_setup(racing_servers_accept_one_code_exactly_once, fixture::reset),
        cmocka_unit_test_setup(concurrent_wrong_codes_count_exactly_and_lock_out_every_server,
                               fixture::reset),
        cmocka_unit_test_setup(database_down_fails_closed_and_recovers, fixture::reset),
        cmocka_unit_test_setup(database_dump_holds_no_plaintext_secret, fixture::reset),
        cmocka_unit_test_setup(a_secret_copied_into_another_users_row_does_not_decrypt,
                               fixture::reset),
        cmocka_unit_test_setup(unsafe_key_file_and_libpq_environment_are_refused, fixture::reset),
        cmocka_unit_test_setup(migration_round_trips_every_user, fixture::reset),
        cmocka_unit_test_setup(per_login_cost_is_reported, fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
