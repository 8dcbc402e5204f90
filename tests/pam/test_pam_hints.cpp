// SPDX-License-Identifier: Apache-2.0
// pam_totp.so through the real libpam (pam_wrapper): what the user is told besides the
// prompt. After a recovery code logs in: how many are left, and when none is, to make new
// ones. Nothing else, and nothing at all to anyone who was refused: the messages must not
// tell an unknown, unenrolled or wrong-code login apart. PAM_SILENT silences them.

#include <security/pam_appl.h>

#include <string>
#include <vector>

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
using fixture::login;
using fixture::Messages;
using fixture::password_of;

namespace {

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    fixture::write_service("strict", "max_failures=1");
    // The order totp-check asks for: the code only after a successful password.
    fixture::write_raw_service(
        "ordered", std::string("auth requisite ") + TOTP_PAM_WRAPPER_MODULES +
                       "/pam_matrix.so passdb=" + fixture::paths().root + "/passdb\n" +
                       "auth required " + TOTP_MODULE_PATH + " state_dir=" +
                       fixture::paths().state_dir + " config=" + fixture::paths().config + "\n");
    return 0;
}

fixture::LoginResult login_with(const std::string& user, const std::string& answer,
                                const std::string& service = "login") {
    return login(service, user, {password_of(user), answer});
}

void recovery_code_login_says_how_many_are_left(void**) {
    enroll("alice", {}, {"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23", "2345-6789-ABCD"});
    const auto result = login_with("alice", "ABCD-EFGH-JKMN");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(result.messages == Messages{"info: 2 recovery codes left."});
}

void one_left_is_said_in_the_singular(void**) {
    enroll("alice", {}, {"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23"});
    const auto result = login_with("alice", "PQRS-TVWX-YZ23");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(result.messages == Messages{"info: 1 recovery code left."});
}

void last_recovery_code_warns_to_make_new_ones(void**) {
    enroll("alice", {}, {"ABCD-EFGH-JKMN"});
    const auto result = login_with("alice", "abcdefghjkmn");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(result.messages ==
                Messages{"error: That was your last recovery code. Run \"totp-enroll "
                         "recovery-codes\" to make new ones."});
}

// Users who chose no recovery codes are not reminded at every login.
void code_login_shows_no_message(void**) {
    const auto secret = enroll("alice");
    const auto result = login_with("alice", code_at(secret, {}, kEpoch));
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(result.messages.empty());
}

void refused_logins_show_no_message(void**) {
    const auto secret = enroll("alice", {}, {"ABCD-EFGH-JKMN"});
    std::vector<fixture::LoginResult> refused{
        login_with("alice", fixture::wrong_code(secret, kEpoch)),
        login_with("alice", "PQRS-TVWX-YZ23"),  // a recovery code she does not have
        login_with("bob", "ABCD-EFGH-JKMN"),    // not enrolled
        login_with("nobody-here", "ABCD-EFGH-JKMN"),
    };
    const auto erin = enroll("erin", {}, {"ABCD-EFGH-JKMN"});
    refused.push_back(login_with("erin", fixture::wrong_code(erin, kEpoch), "strict"));
    refused.push_back(login_with("erin", "ABCD-EFGH-JKMN", "strict"));  // locked out
    // Someone with a recovery code but not the password hears nothing either (and uses
    // nothing up) in a stack that asks for the code after the password.
    enroll("carol", {}, {"ABCD-EFGH-JKMN"});
    refused.push_back(login("ordered", "carol", {"not-her-password", "ABCD-EFGH-JKMN"}));
    for (const auto& result : refused) {
        assert_int_not_equal(result.rc, PAM_SUCCESS);
        assert_true(result.messages.empty());
    }
    assert_int_equal(fixture::read_state("carol").recovery.size(), 1);
    assert_true(login_with("carol", "ABCD-EFGH-JKMN", "ordered").messages.size() == 1);
}

void silent_login_shows_no_message(void**) {
    enroll("alice", {}, {"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23"});
    const auto result = fixture::login_from(
        "login", "alice", {password_of("alice"), "ABCD-EFGH-JKMN"}, "203.0.113.7", PAM_SILENT);
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(result.messages.empty());
    assert_int_equal(fixture::read_state("alice").recovery.size(), 1);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, fixture::reset)
        CASE(recovery_code_login_says_how_many_are_left),
        CASE(one_left_is_said_in_the_singular),
        CASE(last_recovery_code_warns_to_make_new_ones),
        CASE(code_login_shows_no_message),
        CASE(refused_logins_show_no_message),
        CASE(silent_login_shows_no_message),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
