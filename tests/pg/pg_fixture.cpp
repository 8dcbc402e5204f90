// SPDX-License-Identifier: Apache-2.0
#include "pg_fixture.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "one_token.hpp"
#include "totp/store_factory.hpp"

namespace pg_fixture {
namespace {

std::string g_dir;  // holds the server's directory and the certificates
std::string g_port;

std::string script(const char* name) {
    return std::string(TOTP_PG_TESTS_DIR) + "/" + name;
}

std::string server_dir() {
    return g_dir + "/server";
}

std::string standby_dir() {
    return g_dir + "/standby";
}

std::string pooler_dir() {
    return g_dir + "/pooler";
}

void server_at(const std::string& dir, const std::string& action, const std::string& sql) {
    const std::string extra = sql.empty() ? "" : " \"" + sql + "\"";
    must(run(script("pg_server.sh") + " " + action + " " + dir + extra).first == 0, action.c_str());
}

std::string query_at(const std::string& dir, const std::string& sql) {
    auto [rc, rows] = run(script("pg_server.sh") + " sql " + dir + " \"" + sql + "\"");
    must(rc == 0, "sql");
    return rows;
}

extern "C" void hang_guard_fired(int) {
    constexpr char kMessage[] = "hang guard: a login did not return within 60 s\n";
    const ssize_t ignored = write(STDERR_FILENO, kMessage, sizeof kMessage - 1);
    (void)ignored;
    _exit(1);
}

}  // namespace

int without_hanging(const std::function<int()>& login) {
    std::signal(SIGALRM, hang_guard_fired);
    alarm(60);
    const int rc = login();
    alarm(0);
    return rc;
}

void must(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "fleet test setup failed: %s\n", what);
        std::abort();
    }
}

std::pair<int, std::string> run(const std::string& command) {
    FILE* pipe = ::popen(command.c_str(), "r");  // NOLINT(cert-env33-c): the tests' own scripts
    must(pipe != nullptr, "popen");
    std::string out;
    char buffer[4096];
    std::size_t got;
    while ((got = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, got);
    const int status = ::pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

int setup(void** state, bool tls) {
    fixture::setup_sandbox(state);
    char dir[] = "/tmp/pam_totp_pg.XXXXXX";
    must(mkdtemp(dir) != nullptr, "mkdtemp");
    must(chmod(dir, 0711) == 0, "chmod");
    g_dir = dir;
    fixture::write_file(key_file(),
                        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n");
    fixture::write_file(password_file(), std::string(kPassword) + "\n");
    std::string init = script("pg_server.sh") + " init " + server_dir() + " " + password_file();
    if (tls) {
        must(run(script("make_test_certs.sh") + " " + g_dir).first == 0, "make_test_certs.sh");
        init += " " + g_dir;
    }
    auto [rc, port] = run(init);
    must(rc == 0 && !port.empty(), "initdb");
    g_port = port.substr(0, port.find('\n'));
    server("start");
    fixture::write_service("login", "");
    return 0;
}

int teardown(void** state) {
    if (!g_dir.empty()) {
        run(script("pg_server.sh") + " stop " + server_dir() + " 2>/dev/null");
        run(script("pg_server.sh") + " stop " + standby_dir() + " 2>/dev/null");
        run(script("pg_server.sh") + " unpool " + pooler_dir() + " 2>/dev/null");
        if (std::getenv("TOTP_TEST_KEEP") == nullptr) run("rm -rf " + g_dir);
    }
    return fixture::teardown_sandbox(state);
}

const std::string& port() {
    return g_port;
}

std::string key_file() {
    return fixture::paths().root + "/store.key";
}

std::string password_file() {
    return fixture::paths().root + "/store.password";
}

std::string ca_file() {
    return g_dir + "/ca.crt";
}

std::string other_ca_file() {
    return g_dir + "/other_ca.crt";
}

void server(const std::string& action, const std::string& sql) {
    server_at(server_dir(), action, sql);
}

std::string query(const std::string& sql) {
    return query_at(server_dir(), sql);
}

std::string start_standby() {
    auto [rc, port] =
        run(script("pg_server.sh") + " standby " + server_dir() + " " + standby_dir());
    must(rc == 0 && !port.empty(), "pg_basebackup");
    return port.substr(0, port.find('\n'));
}

std::string start_pooler(const std::string& role, int pool_size) {
    must(run(script("pg_server.sh") + " pooler " + server_dir() + " " + pooler_dir() + " " + g_dir +
             " " + role + " " + password_file() + " " + std::to_string(pool_size))
                 .first == 0,
         "pgbouncer");
    return pooler_dir();
}

void standby(const std::string& action, const std::string& sql) {
    server_at(standby_dir(), action, sql);
}

std::string standby_query(const std::string& sql) {
    return query_at(standby_dir(), sql);
}

std::string dump() {
    auto [rc, text] = run(script("pg_server.sh") + " dump " + server_dir());
    must(rc == 0, "pg_dump");
    return text;
}

totp::Settings settings(const std::string& dsn) {
    totp::Settings settings;
    settings.state_dir = fixture::paths().state_dir;
    settings.store = "postgresql";
    settings.store_dsn = dsn;
    settings.store_key_file = key_file();
    settings.store_password_file = password_file();
    return settings;
}

std::string module_args(const std::string& dsn) {
    return "store=postgresql store_dsn=" + dsn + " store_key_file=" + key_file() +
           " store_password_file=" + password_file();
}

void create_minimal_role(const std::string& role) {
    server("sql", "CREATE ROLE " + role + " LOGIN PASSWORD '" + kPassword + "'");
    server(
        "sql",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON pam_totp_users, pam_totp_reset_tokens TO " + role);
    server("sql", "GRANT SELECT ON pam_totp_schema TO " + role);
}

void write_store_config(const std::string& path, const std::string& dsn) {
    fixture::write_file(path,
                        "[global]\nstore = postgresql\nstate_dir = " + fixture::paths().state_dir +
                            "\nstore_dsn = " + dsn + "\nstore_key_file = " + key_file() +
                            "\nstore_password_file = " + password_file() + "\n",
                        0644);
}

std::pair<pid_t, bool> enroll_stopped_at(const std::string& user, const char* point,
                                         const std::string& config) {
    const char* preloaded = std::getenv("LD_PRELOAD");
    const std::string preload =
        std::string(preloaded != nullptr ? preloaded : "") + ":" + TOTP_STOP_AT_PATH;
    const pid_t pid = fork();
    must(pid >= 0, "fork");
    if (pid == 0) {
        setenv("LD_PRELOAD", preload.c_str(), 1);
        setenv("TOTP_TEST_STOP_AT", point, 1);
        const int null = open("/dev/null", O_WRONLY);
        if (null < 0 || dup2(null, STDOUT_FILENO) < 0 || dup2(null, STDERR_FILENO) < 0) _exit(126);
        execl(TOTP_ENROLL_PATH, "totp-enroll", "status", user.c_str(), "--config", config.c_str(),
              static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    must(waitpid(pid, &status, WUNTRACED) == pid, "waitpid");
    return {pid, WIFSTOPPED(status)};
}

Session hold_lock(const std::string& dsn, const std::string& lock_sql) {
    const char* keys[] = {"dbname", "password", nullptr};
    const char* values[] = {dsn.c_str(), kPassword, nullptr};
    Session admin(PQconnectdbParams(keys, values, 1));
    must(PQstatus(admin.get()) == CONNECTION_OK, "admin connection");
    PGresult* locked = PQexec(admin.get(), lock_sql.c_str());
    const ExecStatusType status = PQresultStatus(locked);
    PQclear(locked);
    must(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK, lock_sql.c_str());
    return admin;
}

void create_schema(const std::string& dsn) {
    auto upgraded = totp::upgrade_postgresql_schema(settings(dsn));
    if (!upgraded) std::fprintf(stderr, "%s\n", upgraded.error().message.c_str());
    must(upgraded.ok(), "db-upgrade");
}

std::unique_ptr<totp::Store> open_store(const std::string& dsn) {
    auto store = totp::make_store(settings(dsn));
    if (!store) std::fprintf(stderr, "%s\n", store.error().message.c_str());
    must(store.ok(), "make_store");
    return std::move(*store);
}

std::unique_ptr<totp::ResetTokenStore> open_token_store(const std::string& dsn) {
    auto store = totp::make_reset_token_store(settings(dsn));
    if (!store) std::fprintf(stderr, "%s\n", store.error().message.c_str());
    must(store.ok(), "make_reset_token_store");
    return std::move(*store);
}

totp::SecretBytes enroll(const std::string& dsn, const std::string& user,
                         const std::string& secret_base32) {
    const totp::UserState state = fixture::new_state({}, {}, secret_base32);
    auto store = open_store(dsn);
    auto record = store->open(user);
    must(record.ok(), "open record");
    must((*record)->save(state).ok(), "save record");
    return one_token(state).secret.clone();
}

}  // namespace pg_fixture
