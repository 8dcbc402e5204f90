// SPDX-License-Identifier: Apache-2.0
// pam_totp.so through the real libpam (pam_wrapper): what the config file's layout and the
// rollout state file next to it do to logins. A setting in a section the module does not
// read must refuse logins, not look enforced; the rollout file can only add to enforcement
// what the config leaves open, and a rollout file that cannot be trusted refuses logins.

#include <security/pam_appl.h>
#include <unistd.h>

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
    fixture::write_service("nullok_no", "nullok=no");
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

// --- The rollout state file (pam_totp.rollout next to the config file) ------------------

std::string rollout_file() {
    return fixture::paths().root + "/pam_totp.rollout";
}

int reset_without_rollout_file(void** state) {
    std::filesystem::remove(rollout_file());
    return fixture::reset(state);
}

int unenrolled_login() {
    return login("login", "bob", {password_of("bob"), "000000"}).rc;
}

void rollout_file_saying_rollout_lets_an_unenrolled_user_in(void**) {
    fixture::write_file(rollout_file(), "# written by totp-enroll rollout\n\nrollout\n", 0644);
    const auto result = login("login", "bob", {password_of("bob"), "000000"});
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 1);  // only the password
    // An enrolled user still needs the code.
    assert_int_equal(login_with_right_code("alice"), PAM_SUCCESS);
    assert_int_equal(login("login", "alice", {password_of("alice"), "000000"}).rc, PAM_AUTH_ERR);
}

void rollout_file_saying_enforce_refuses_an_unenrolled_user_despite_nullok_yes(void**) {
    fixture::write_file(fixture::paths().config, "[global]\nnullok = yes\n", 0644);
    fixture::write_file(rollout_file(), "enforce\n", 0644);
    assert_int_equal(unenrolled_login(), PAM_AUTH_ERR);
}

void config_nullok_no_wins_over_rollout_file_saying_rollout(void**) {
    fixture::write_file(fixture::paths().config, "[global]\nnullok = no\n", 0644);
    fixture::write_file(rollout_file(), "rollout\n", 0644);
    assert_int_equal(unenrolled_login(), PAM_AUTH_ERR);
}

void module_argument_nullok_no_wins_over_rollout_file_saying_rollout(void**) {
    fixture::write_file(rollout_file(), "rollout\n", 0644);
    assert_int_equal(login("nullok_no", "bob", {password_of("bob"), "000000"}).rc, PAM_AUTH_ERR);
}

void garbage_in_rollout_file_refuses_every_login_naming_file_and_line(void**) {
    fixture::write_file(rollout_file(), "# comment\nrolout\n", 0644);
    assert_int_equal(login_with_right_code("alice"), PAM_SERVICE_ERR);
    assert_int_equal(unenrolled_login(), PAM_SERVICE_ERR);
    assert_true(log_contains(rollout_file() + ", line 2"));
}

void two_modes_in_rollout_file_refuse_logins(void**) {
    fixture::write_file(rollout_file(), "rollout\nenforce\n", 0644);
    assert_int_equal(unenrolled_login(), PAM_SERVICE_ERR);
    assert_true(log_contains(rollout_file() + ", line 2"));
}

void empty_rollout_file_refuses_logins(void**) {
    fixture::write_file(rollout_file(), "# no mode\n", 0644);
    assert_int_equal(unenrolled_login(), PAM_SERVICE_ERR);
    assert_true(log_contains(rollout_file()));
}

void group_writable_rollout_file_refuses_logins(void**) {
    fixture::write_file(rollout_file(), "rollout\n", 0664);
    assert_int_equal(unenrolled_login(), PAM_SERVICE_ERR);
    assert_true(log_contains(rollout_file() + ": writable by group or other"));
}

void symlinked_rollout_file_refuses_logins(void**) {
    const std::string target = fixture::paths().root + "/elsewhere";
    fixture::write_file(target, "rollout\n", 0644);
    assert_int_equal(::symlink(target.c_str(), rollout_file().c_str()), 0);
    assert_int_equal(unenrolled_login(), PAM_SERVICE_ERR);
    assert_true(log_contains(rollout_file() + ": is a symlink"));
}

void rollout_file_owned_by_another_user_refuses_logins(void**) {
    fixture::write_file(rollout_file(), "rollout\n", 0644);
    assert_int_equal(::chown(rollout_file().c_str(), 1001, 1001), 0);
    assert_int_equal(unenrolled_login(), PAM_SERVICE_ERR);
    assert_true(log_contains(rollout_file() + ": not owned by root"));
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
#define CASE(name) cmocka_unit_test_setup(name, reset_without_rollout_file)
        CASE(rollout_file_saying_rollout_lets_an_unenrolled_user_in),
        CASE(rollout_file_saying_enforce_refuses_an_unenrolled_user_despite_nullok_yes),
        CASE(config_nullok_no_wins_over_rollout_file_saying_rollout),
        CASE(module_argument_nullok_no_wins_over_rollout_file_saying_rollout),
        CASE(garbage_in_rollout_file_refuses_every_login_naming_file_and_line),
        CASE(two_modes_in_rollout_file_refuse_logins),
        CASE(empty_rollout_file_refuses_logins),
        CASE(group_writable_rollout_file_refuses_logins),
        CASE(symlinked_rollout_file_refuses_logins),
        CASE(rollout_file_owned_by_another_user_refuses_logins),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
