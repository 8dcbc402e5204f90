// SPDX-License-Identifier: Apache-2.0
// pam_totp.so through the real libpam (pam_wrapper): what the config file's layout does to
// logins. A setting in a section the module does not read must refuse logins, not look
// enforced.

#include <security/pam_appl.h>

#include <filesystem>
#include <fstream>
#include <sstream>
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
using fixture::log_contains;
using fixture::login;
using fixture::password_of;

namespace {

std::string shipped_config() {
    std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "../../config/pam_totp.conf");
    assert_true(in.good());
    std::ostringstream content;
    content << in.rdbuf();
    return content.str();
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    return 0;
}

int login_with_right_code(const std::string& user) {
    const auto secret = enroll(user);
    return login("login", user, {password_of(user), code_at(secret, {}, kEpoch)}).rc;
}

void shipped_config_lets_an_enrolled_user_in(void**) {
    fixture::write_file(fixture::paths().config, shipped_config(), 0644);
    assert_int_equal(login_with_right_code("alice"), PAM_SUCCESS);
}

// `echo 'nullok = no' >> /etc/security/pam_totp.conf` lands in [reset].
void nullok_appended_after_reset_section_refuses_logins(void**) {
    fixture::write_file(fixture::paths().config, shipped_config() + "nullok = no\n", 0644);
    assert_int_equal(login_with_right_code("alice"), PAM_SERVICE_ERR);
    assert_true(log_contains("'nullok'"));
    assert_true(log_contains("[reset]"));
}

void misspelt_key_refuses_logins(void**) {
    fixture::write_file(fixture::paths().config, "[global]\nnulok = no\n", 0644);
    assert_int_equal(login_with_right_code("alice"), PAM_SERVICE_ERR);
    assert_true(log_contains("unknown setting 'nulok'"));
}

void empty_nullok_refuses_logins(void**) {
    fixture::write_file(fixture::paths().config, "[global]\nnullok =\n", 0644);
    assert_int_equal(login("login", "bob", {password_of("bob"), "000000"}).rc, PAM_SERVICE_ERR);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, fixture::reset)
        CASE(shipped_config_lets_an_enrolled_user_in),
        CASE(nullok_appended_after_reset_section_refuses_logins),
        CASE(misspelt_key_refuses_logins),
        CASE(empty_nullok_refuses_logins),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
