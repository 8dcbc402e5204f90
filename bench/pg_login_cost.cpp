// SPDX-License-Identifier: Apache-2.0
// The cost of one whole login (password and code) with the fleet store's database on
// loopback, next to the file store: a measurement for BENCHMARKS.md, not a test. Runs a
// throwaway PostgreSQL server like tests/pg (bench/pg_login_cost.sh BUILD_DIR).
#include <chrono>
#include <cstdio>
#include <cstdlib>
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

constexpr int kLogins = 40;

std::string dsn() {
    return "postgresql://postgres@127.0.0.1:" + pg_fixture::port() + "/postgres?sslmode=disable";
}

double milliseconds_per_login(const std::string& service, const totp::SecretBytes& secret) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < kLogins; ++i) {
        const std::int64_t when = fixture::kEpoch + 3600 + 30 * i;
        fixture::set_now(when);
        const auto result = fixture::login(
            service, "erin", {fixture::password_of("erin"), fixture::code_at(secret, {}, when)});
        assert_int_equal(result.rc, 0);
    }
    const std::chrono::duration<double, std::milli> spent =
        std::chrono::steady_clock::now() - start;
    return spent.count() / kLogins;
}

void per_login_cost(void**) {
    const totp::SecretBytes in_files = fixture::enroll("erin");
    std::printf("per-login cost, file store: %.2f ms\n", milliseconds_per_login("files", in_files));
    const totp::SecretBytes in_database = pg_fixture::enroll(dsn(), "erin");
    std::printf("per-login cost, PostgreSQL (loopback): %.2f ms\n",
                milliseconds_per_login("database", in_database));
}

int group_setup(void** state) {
    pg_fixture::setup(state);
    pg_fixture::must(std::getenv("TOTP_TEST_STORE_PG") != nullptr, "TOTP_TEST_STORE_PG");
    pg_fixture::create_schema(dsn());
    fixture::write_service("database", pg_fixture::module_args(dsn()));
    fixture::write_service("files", "");
    return 0;
}

}  // namespace

int main() {
    const CMUnitTest measurements[] = {
        cmocka_unit_test_setup(per_login_cost, fixture::reset),
    };
    return cmocka_run_group_tests(measurements, group_setup, pg_fixture::teardown);
}
