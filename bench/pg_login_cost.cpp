// SPDX-License-Identifier: Apache-2.0
// The latency of one whole login (password and code) with the fleet store: through PgBouncer
// (docs/examples/pgbouncer.ini: a unix socket, TLS with verify-full from the pooler to the
// server), over a direct TLS connection (verify-full), and with the file store, with 100 and
// 100 000 rows in the database, one process at a time and eight at once. A measurement for
// BENCHMARKS.md, not a test: bench/pg_login_cost.sh BUILD_DIR. Runs a throwaway PostgreSQL
// server (fsync on) and PgBouncer like tests/pg.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
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

constexpr int kMaxProcesses = 8;
// Logins per cell, split between the processes: PG_BENCH_LOGINS, or 400.
int logins_per_cell() {
    const char* set = std::getenv("PG_BENCH_LOGINS");
    const long logins = set != nullptr ? std::strtol(set, nullptr, 10) : 400;
    return static_cast<int>(std::clamp<long>(logins, kMaxProcesses, 1000000));
}

std::string direct_dsn(const std::string& user) {
    return "postgresql://" + user + "@localhost:" + pg_fixture::port() +
           "/postgres?sslmode=verify-full&sslrootcert=" + pg_fixture::ca_file();
}

std::string bench_user(int index) {
    return "bench" + std::to_string(index);
}

// Users of the sandbox's passwd and pam_matrix files, one per process.
void add_bench_users() {
    std::string passwd = fixture::read_file(fixture::paths().root + "/passwd");
    std::string passdb = fixture::read_file(fixture::paths().root + "/passdb");
    for (int i = 0; i < kMaxProcesses; ++i) {
        const std::string user = bench_user(i);
        passwd += user + ":x:" + std::to_string(2000 + i) + ":" + std::to_string(2000 + i) +
                  "::/home/" + user + ":/bin/sh\n";
        passdb += user + ":" + fixture::password_of(user) + ":any\n";
    }
    fixture::write_file(fixture::paths().root + "/passwd", passwd, 0644);
    fixture::write_file(fixture::paths().root + "/passdb", passdb);
}

// The times of `logins` logins of one user through `service`, each at a new time step.
std::vector<double> timed_logins(const std::string& service, const std::string& user,
                                 const totp::SecretBytes& secret, int logins, std::int64_t from) {
    std::vector<double> times;
    for (int i = 0; i < logins; ++i) {
        const std::int64_t when = from + 30 * i;
        fixture::set_now(when);
        const std::string code = fixture::code_at(secret, {}, when);
        const auto start = std::chrono::steady_clock::now();
        const int rc = fixture::login(service, user, {fixture::password_of(user), code}).rc;
        const std::chrono::duration<double, std::milli> spent =
            std::chrono::steady_clock::now() - start;
        must(rc == 0, "a benchmark login succeeded");
        times.push_back(spent.count());
    }
    return times;
}

// `processes` processes at once, each logging its own user in; every login's time.
std::vector<double> run_cell(const std::string& service,
                             const std::vector<totp::SecretBytes>& secrets, int processes,
                             std::int64_t from) {
    const int each = logins_per_cell() / processes;
    if (processes == 1) return timed_logins(service, bench_user(0), secrets[0], each, from);
    std::vector<std::pair<pid_t, int>> children;
    for (int p = 0; p < processes; ++p) {
        int out[2];
        must(pipe(out) == 0, "pipe");
        const pid_t pid = fork();
        must(pid >= 0, "fork");
        if (pid == 0) {
            close(out[0]);
            fixture::start_pam_wrapper();
            const std::vector<double> times = timed_logins(
                service, bench_user(p), secrets[static_cast<std::size_t>(p)], each, from);
            const auto bytes = static_cast<ssize_t>(times.size() * sizeof(double));
            const bool sent = write(out[1], times.data(), static_cast<std::size_t>(bytes)) == bytes;
            fixture::remove_pam_wrapper_dir();
            _exit(sent ? 0 : 1);
        }
        close(out[1]);
        children.emplace_back(pid, out[0]);
    }
    std::vector<double> all;
    for (const auto& [pid, fd] : children) {
        std::vector<double> times(static_cast<std::size_t>(each));
        const auto bytes = static_cast<ssize_t>(times.size() * sizeof(double));
        must(read(fd, times.data(), static_cast<std::size_t>(bytes)) == bytes, "a child's times");
        close(fd);
        int status = 0;
        must(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
             "a benchmark process");
        all.insert(all.end(), times.begin(), times.end());
    }
    return all;
}

double percentile(std::vector<double> times, double fraction) {
    std::sort(times.begin(), times.end());
    const auto at = static_cast<std::size_t>(fraction * static_cast<double>(times.size() - 1));
    return times[at];
}

// Rows of other users up to `rows` in all (their contents are never read).
void fill_database(int rows) {
    pg_fixture::server(
        "sql",
        "INSERT INTO pam_totp_users (username, algorithm, digits, period, secret, failures, "
        "locked_until, recovery, created) SELECT 'filler' || g, 'SHA1', 6, 30, '\\\\x00', 0, 0, "
        "'\\\\x00', 0 FROM generate_series((SELECT count(*) FROM pam_totp_users) + 1, " +
            std::to_string(rows) + ") g");
    pg_fixture::server("sql", "VACUUM ANALYZE pam_totp_users");
}

void per_login_latency(void**) {
    add_bench_users();
    std::vector<totp::SecretBytes> in_files;
    std::vector<totp::SecretBytes> in_database;
    for (int i = 0; i < kMaxProcesses; ++i) {
        in_files.push_back(fixture::enroll(bench_user(i)));
        in_database.push_back(pg_fixture::enroll(direct_dsn("postgres"), bench_user(i)));
    }
    std::printf("| store | users | P | logins | p50 | p99 |\n|---|---|---|---|---|---|\n");
    std::int64_t from = fixture::kEpoch + 3600;
    for (const int rows : {100, 100000}) {
        fill_database(rows);
        for (const char* service : {"pooled", "direct", "files"}) {
            for (const int processes : {1, kMaxProcesses}) {
                const std::vector<double> times =
                    run_cell(service, std::string(service) == "files" ? in_files : in_database,
                             processes, from);
                from += 30 * logins_per_cell();
                std::printf("| %s | %d | %d | %zu | %.2f ms | %.2f ms |\n", service, rows,
                            processes, times.size(), percentile(times, 0.5),
                            percentile(times, 0.99));
                std::fflush(stdout);
            }
        }
    }
}

int group_setup(void** state) {
    pg_fixture::setup(state, /*tls=*/true);
    pg_fixture::must(std::getenv("TOTP_TEST_STORE_PG") != nullptr, "TOTP_TEST_STORE_PG");
    // Durable commits, as a real database makes them.
    pg_fixture::server("sql", "ALTER SYSTEM SET fsync = on");
    pg_fixture::server("sql", "SELECT pg_reload_conf()");
    pg_fixture::create_schema(direct_dsn("postgres"));
    pg_fixture::create_minimal_role("fleet");
    const std::string socket_dir = pg_fixture::start_pooler("fleet", kMaxProcesses);
    fixture::write_service("pooled",
                           pg_fixture::module_args("postgresql:///postgres?host=" + socket_dir +
                                                   "&port=6432&user=fleet&sslmode=disable"));
    fixture::write_service("direct", pg_fixture::module_args(direct_dsn("fleet")));
    fixture::write_service("files", "");
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest measurements[] = {
        cmocka_unit_test_setup(per_login_latency, fixture::reset),
    };
    return cmocka_run_group_tests(measurements, group_setup, pg_fixture::teardown);
}
