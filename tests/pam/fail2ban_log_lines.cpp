// SPDX-License-Identifier: Apache-2.0
// Writes the log lines the real module emits for the logins fail2ban must count (wrong
// codes, a lockout, a bad recovery code, a replayed code) and must not (successes, logins
// without PAM_RHOST, a forged rhost in a typed user name), one scenario per case, to the
// file named by the first argument. tests/packaging/check_fail2ban_filter.sh feeds them to
// fail2ban-regex with the shipped filter.
//   fail2ban_log_lines OUTPUT

#include <security/pam_appl.h>

#include <fstream>
#include <string>

#include "fixture.hpp"

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

using fixture::code_at;
using fixture::enroll;
using fixture::kEpoch;
using fixture::login_from;
using fixture::password_of;

namespace {

const totp::OtpParams kDefault{};
std::string g_output;

fixture::LoginResult sshd_login(const std::string& user, const std::string& code,
                                const std::string& rhost) {
    return login_from("sshd", user, {password_of(user), code}, rhost);
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("sshd", "");
    // Only the module: a typed name that is no account reaches it without a password.
    fixture::write_raw_service("sshd-code-only", std::string("auth required ") + TOTP_MODULE_PATH +
                                                     " state_dir=" + fixture::paths().state_dir +
                                                     " config=" + fixture::paths().config + "\n");
    return 0;
}

// Keeps each case's log: fixture::reset empties it before the next.
int keep_log(void**) {
    std::ofstream(g_output, std::ios::app) << fixture::read_log();
    return 0;
}

void wrong_code_from_a_host(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(sshd_login("alice", fixture::wrong_code(secret, kEpoch), "203.0.113.10").rc,
                     PAM_AUTH_ERR);
}

void lockout_and_a_login_while_locked(void**) {
    fixture::write_file(fixture::paths().config, "[global]\nmax_failures = 3\n", 0644);
    const auto secret = enroll("bob");
    for (int i = 0; i < 3; ++i) {
        assert_int_equal(sshd_login("bob", fixture::wrong_code(secret, kEpoch), "203.0.113.20").rc,
                         PAM_AUTH_ERR);
    }
    assert_int_equal(sshd_login("bob", code_at(secret, kDefault, kEpoch), "203.0.113.20").rc,
                     PAM_MAXTRIES);
    assert_true(fixture::log_contains("locked out for"));
}

void bad_recovery_code_from_an_ipv6_host(void**) {
    enroll("carol", kDefault, {"ABCD-EFGH-JKMN"});
    assert_int_equal(sshd_login("carol", "ZZZZ-ZZZZ-ZZZZ", "2001:db8::30").rc, PAM_AUTH_ERR);
}

void replayed_code_from_a_host(void**) {
    const auto secret = enroll("dave");
    const std::string code = code_at(secret, kDefault, kEpoch);
    assert_int_equal(sshd_login("dave", code, "198.51.100.1").rc, PAM_SUCCESS);
    assert_int_equal(sshd_login("dave", code, "203.0.113.40").rc, PAM_AUTH_ERR);
    assert_true(fixture::log_contains("replayed"));
}

void wrong_code_without_rhost(void**) {
    const auto secret = enroll("erin");
    const std::string wrong = fixture::wrong_code(secret, kEpoch);
    assert_int_equal(fixture::login("sshd", "erin", {password_of("erin"), wrong}).rc, PAM_AUTH_ERR);
}

void successful_logins(void**) {
    const auto secret = enroll("alice", kDefault, {"ABCD-EFGH-JKMN"});
    assert_int_equal(sshd_login("alice", code_at(secret, kDefault, kEpoch), "198.51.100.2").rc,
                     PAM_SUCCESS);
    assert_int_equal(sshd_login("alice", "ABCD-EFGH-JKMN", "198.51.100.3").rc, PAM_SUCCESS);
}

// The typed name is the client's: one shaped like the end of a line must not make fail2ban
// ban the address written in it.
void forged_rhost_in_a_typed_user_name(void**) {
    const auto result = login_from("sshd-code-only", "x (service=sshd rhost=192.0.2.66)",
                                   {"123456"}, "203.0.113.70");
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    assert_true(fixture::log_contains("rhost=192.0.2.66)"));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    g_output = argv[1];
    std::ofstream(g_output, std::ios::trunc).flush();
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup_teardown(name, fixture::reset, keep_log)
        CASE(wrong_code_from_a_host),
        CASE(lockout_and_a_login_while_locked),
        CASE(bad_recovery_code_from_an_ipv6_host),
        CASE(replayed_code_from_a_host),
        CASE(wrong_code_without_rhost),
        CASE(successful_logins),
        CASE(forged_rhost_in_a_typed_user_name),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
