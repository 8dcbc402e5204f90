// SPDX-License-Identifier: Apache-2.0
// The store factory's checks of a backend's C interface (store_plugin.h), with a backend
// built wrong on purpose (bad_plugin.c) in place of pam_totp_store_pg.so (the redirect
// preload of backend_redirect.c). No database is needed: a refused backend is never called.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "one_token.hpp"
#include "totp/store_factory.hpp"

// CMocka last: it needs these C headers first, its fail() macro would break <ios>, and
// 1.1.5 declares its functions without extern "C".
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

std::string g_dir;  // a private state directory, the key file beside it

totp::Settings settings(const char* fallback_users = "") {
    totp::Settings settings;
    settings.state_dir = g_dir + "/state";
    settings.store = "postgresql";
    settings.store_dsn = "postgresql://totp@db.invalid/totp";
    settings.store_key_file = g_dir + "/store.key";
    settings.store_fallback_users = fallback_users;
    return settings;
}

// One line that names the backend's path, the fault, and what to suspect.
void assert_refused_with(const totp::Error& error, const std::string& fault) {
    assert_int_equal(static_cast<int>(error.code), static_cast<int>(totp::Errc::unsupported));
    const std::string& message = error.message;
    assert_true(message.find('\n') == std::string::npos);
    assert_true(message.find(TOTP_STORE_PG_PATH) != std::string::npos);
    if (message.find(fault) == std::string::npos)
        fail_msg("unexpected message: %s", message.c_str());
    assert_true(message.find("(built from other sources?)") != std::string::npos);
}

// The backend under test and the fault its refusal must name (from the command line).
const char* g_backend = nullptr;
const char* g_fault = nullptr;

void a_backend_with_a_bad_interface_table_is_refused_by_every_entry_point(void**) {
    auto store = totp::make_postgresql_store(settings());
    assert_false(store.ok());
    assert_refused_with(store.error(), g_fault);
    auto tokens = totp::make_reset_token_store(settings());
    assert_false(tokens.ok());
    assert_refused_with(tokens.error(), g_fault);
    auto upgraded = totp::upgrade_postgresql_schema(settings());
    assert_false(upgraded.ok());
    assert_refused_with(upgraded.error(), g_fault);
}

// As a missing backend: break-glass users log in from their local records, everyone else
// fails closed with the reason.
void a_refused_backend_lets_only_break_glass_users_use_local_records(void**) {
    auto files = totp::make_files_store(settings());
    assert_true(files.ok());
    totp::UserState state;
    one_token(state).secret = totp::SecretBytes(20);
    state.created = 1;
    for (const char* user : {"erin", "dave"}) {
        auto record = (*files)->open(user);
        assert_true(record.ok());
        assert_true((*record)->save(state).ok());
    }
    auto store = totp::make_store(settings("erin"));
    assert_true(store.ok());
    auto erin = (*store)->open("erin");
    assert_true(erin.ok());
    assert_true((*erin)->state().has_value());
    auto dave = (*store)->open("dave");
    assert_false(dave.ok());
    assert_int_equal(static_cast<int>(dave.error().code),
                     static_cast<int>(totp::Errc::unavailable));
    assert_true(dave.error().message.find(g_fault) != std::string::npos);
}

int setup(void**) {
    char pattern[] = "/tmp/totp-plugin-abi-XXXXXX";
    if (::mkdtemp(pattern) == nullptr || ::chmod(pattern, 0700) != 0) return -1;
    g_dir = pattern;
    if (::mkdir((g_dir + "/state").c_str(), 0700) != 0) return -1;
    std::ofstream(g_dir + "/store.key")
        << "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    return ::chmod((g_dir + "/store.key").c_str(), 0600);
}

int teardown(void**) {
    std::error_code ignored;
    std::filesystem::remove_all(g_dir, ignored);
    return 0;
}

}  // namespace

// test_store_plugin_abi BACKEND FAULT: one backend per process, since a process keeps the
// first backend it loaded.
int main(int argc, char** argv) {
    if (argc != 3) {
        std::fputs("usage: test_store_plugin_abi BACKEND FAULT\n", stderr);
        return 2;
    }
    if (::geteuid() != 0) {
        std::puts("SKIP: needs root (the backend and key file must be root's)");
        return 77;
    }
    g_backend = argv[1];
    g_fault = argv[2];
    if (::setenv("TOTP_TEST_STORE_PG", g_backend, 1) != 0) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_backend_with_a_bad_interface_table_is_refused_by_every_entry_point),
        cmocka_unit_test(a_refused_backend_lets_only_break_glass_users_use_local_records),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
