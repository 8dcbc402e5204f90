// SPDX-License-Identifier: Apache-2.0
// pam_totp.so through the real libpam (pam_wrapper), behind a password module.

#include <fcntl.h>
#include <security/pam_appl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include "fixture.hpp"
#include "one_token.hpp"
#include "totp/base32.hpp"
#include "totp/store.hpp"

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

const totp::OtpParams kDefault{};

std::string passwd_file() {
    return fixture::paths().root + "/passwd";
}

// Rewrites nss_wrapper's passwd file with a modification time it has not seen: it reloads
// the file only when that changes, and two writes within one second may share it.
void replace_passwd(const std::string& text) {
    static int generation = 0;
    fixture::write_file(passwd_file(), text, 0644);
    const timespec times[2] = {{0, UTIME_OMIT}, {std::time(nullptr) + 100 + ++generation, 0}};
    assert_int_equal(utimensat(AT_FDCWD, passwd_file().c_str(), times, 0), 0);
}

// A code the secret does not give at kEpoch (or the steps next to it).
std::string wrong_code(const totp::SecretBytes& secret) {
    std::string wrong = code_at(secret, kDefault, kEpoch);
    for (int step = -1; step <= 1; ++step) {
        const std::string near = code_at(secret, kDefault, kEpoch + 30 * step);
        wrong[0] = static_cast<char>('0' + (wrong[0] - '0' + 1) % 10);
        if (wrong == near) wrong[1] = static_cast<char>('0' + (wrong[1] - '0' + 1) % 10);
    }
    return wrong;
}

// The standard stack: pam_matrix for the password, then pam_totp.
fixture::LoginResult login_with_code(const std::string& user, const std::string& code,
                                     const std::string& service = "login") {
    return login(service, user, {password_of(user), code});
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    fixture::write_service("nullok", "nullok");
    fixture::write_service("wide", "window=2");
    fixture::write_service("narrow", "window=0");
    fixture::write_service("strict", "max_failures=3 lockout_seconds=60");
    fixture::write_service("require", "require_group=totp-users");
    fixture::write_service("exempt", "exempt_group=no2fa");
    fixture::write_service("missing-group", "require_group=no-such-group");
    // forward_pass as documented: the first line splits, the password module checks the
    // password, the last line checks the kept code. pam_get_items exports PAM_AUTHTOK
    // (what the password module was handed) to the test.
    const std::string totp_line = std::string(TOTP_MODULE_PATH) +
                                  " state_dir=" + fixture::paths().state_dir +
                                  " config=" + fixture::paths().config;
    const std::string password_line = std::string(TOTP_TEST_PASSWORD_MODULE) + " use_first_pass\n";
    fixture::write_raw_service("forward", "auth requisite " + totp_line + " forward_pass\n" +
                                              "auth requisite " + password_line + "auth required " +
                                              TOTP_PAM_WRAPPER_MODULES + "/pam_get_items.so\n" +
                                              "auth required " + totp_line + "\n");
    fixture::write_raw_service("forward-nullok", "auth requisite " + totp_line + " forward_pass\n" +
                                                     "auth requisite " + password_line +
                                                     "auth required " + totp_line + " nullok\n");
    // The single forward_pass line older versions documented: nothing checks the code.
    fixture::write_raw_service("forward-alone", "auth required " + totp_line + " forward_pass\n" +
                                                    "auth required " + password_line);
    fixture::write_service("prompted", "[prompt=Code from your phone: ]");
    fixture::write_service("bad-window", "window=99");
    fixture::write_service("typo", "windw=2");
    fixture::write_service("empty-nullok", "nullok=");
    fixture::write_service("home", "secret_path=" + fixture::paths().root + "/home/%u/totp-state");
    fixture::write_service("home-nullok",
                           "nullok secret_path=" + fixture::paths().root + "/home/%u/totp-state");
    fixture::write_raw_service("first-pass",
                               std::string("auth required ") + TOTP_PAM_WRAPPER_MODULES +
                                   "/pam_set_items.so\nauth required " + TOTP_MODULE_PATH +
                                   " state_dir=" + fixture::paths().state_dir +
                                   " config=" + fixture::paths().config + " use_first_pass\n");
    fixture::write_raw_service("try-first-pass",
                               std::string("auth required ") + TOTP_PAM_WRAPPER_MODULES +
                                   "/pam_set_items.so\nauth required " + TOTP_MODULE_PATH +
                                   " state_dir=" + fixture::paths().state_dir +
                                   " config=" + fixture::paths().config + " try_first_pass\n");
    return 0;
}

void valid_code_logs_in(void**) {
    const auto secret = enroll("alice");
    const auto result = login_with_code("alice", code_at(secret, kDefault, kEpoch));
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 2);
    assert_string_equal(result.prompts[1].c_str(), "Verification code: ");
    assert_true(log_contains("accepted verification code for user alice"));
    assert_true(one_token(fixture::read_state("alice")).last_step.value() == kEpoch / 30);
}

void wrong_password_with_right_code_is_refused(void**) {
    const auto secret = enroll("alice");
    const auto result =
        login("login", "alice", {"not-the-password", code_at(secret, kDefault, kEpoch)});
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    // The code is still asked for: the prompts don't reveal that the password was wrong.
    assert_int_equal(result.prompts.size(), 2);
}

void wrong_code_is_refused_and_counted(void**) {
    const auto secret = enroll("alice");
    const auto result = login_with_code("alice", fixture::wrong_code(secret, kEpoch));
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(fixture::read_state("alice").failures, 1);
    assert_true(log_contains("wrong verification code for user alice"));
}

void replayed_code_is_refused(void**) {
    const auto secret = enroll("alice");
    const std::string code = code_at(secret, kDefault, kEpoch);
    assert_int_equal(login_with_code("alice", code).rc, PAM_SUCCESS);
    fixture::set_now(kEpoch + 10);  // same 30 s step
    assert_int_equal(login_with_code("alice", code).rc, PAM_AUTH_ERR);
    assert_true(log_contains("replayed"));
}

void older_code_after_newer_one_is_refused(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch + 30)).rc,
                     PAM_SUCCESS);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_AUTH_ERR);
}

void codes_one_step_either_side_are_accepted(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch - 30)).rc,
                     PAM_SUCCESS);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch + 30)).rc,
                     PAM_SUCCESS);
}

void codes_two_steps_away_are_refused(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch - 60)).rc,
                     PAM_AUTH_ERR);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch + 60)).rc,
                     PAM_AUTH_ERR);
}

void window_edges_follow_the_clock_within_a_step(void**) {
    const auto secret = enroll("alice");
    // At the last second of a step, the next step's code is inside the window and the
    // code two steps ahead is not.
    fixture::set_now(kEpoch + 29);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch + 89)).rc,
                     PAM_AUTH_ERR);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch + 59)).rc,
                     PAM_SUCCESS);
}

void window_setting_is_honoured(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch - 60), "wide").rc,
                     PAM_SUCCESS);
    const auto bob = enroll("bob");
    assert_int_equal(login_with_code("bob", code_at(bob, kDefault, kEpoch - 30), "narrow").rc,
                     PAM_AUTH_ERR);
    assert_int_equal(login_with_code("bob", code_at(bob, kDefault, kEpoch), "narrow").rc,
                     PAM_SUCCESS);
}

void recovery_code_is_accepted_once(void**) {
    enroll("alice", kDefault, {"ABCD-EFGH-JKMN", "PQRS-TVWX-YZ23"});
    assert_int_equal(login_with_code("alice", "abcd-efgh-jkmn").rc, PAM_SUCCESS);
    assert_true(log_contains("accepted recovery code (1 left) for user alice"));
    assert_int_equal(fixture::read_state("alice").recovery.size(), 1);
    assert_int_equal(login_with_code("alice", "ABCD-EFGH-JKMN").rc, PAM_AUTH_ERR);
    assert_int_equal(login_with_code("alice", "PQRSTVWXYZ23").rc, PAM_SUCCESS);
}

void lockout_after_max_failures_then_unlock(void**) {
    const auto secret = enroll("alice");
    const std::string wrong = fixture::wrong_code(secret, kEpoch);
    for (int i = 0; i < 3; ++i)
        assert_int_equal(login_with_code("alice", wrong, "strict").rc, PAM_AUTH_ERR);
    assert_true(log_contains("locked out for 60 s (3 consecutive failures) for user alice"));

    // Locked: even the right code is refused, after the usual prompts.
    fixture::set_now(kEpoch + 30);
    const auto locked = login_with_code("alice", code_at(secret, kDefault, kEpoch + 30), "strict");
    assert_int_equal(locked.rc, PAM_MAXTRIES);
    assert_int_equal(locked.prompts.size(), 2);
    assert_true(log_contains("refused: locked out"));

    fixture::set_now(kEpoch + 61);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch + 61), "strict").rc,
                     PAM_SUCCESS);
    const auto state = fixture::read_state("alice");
    assert_int_equal(state.failures, 0);
    assert_int_equal(state.locked_until, 0);
}

void failure_after_lock_expiry_relocks_at_once(void**) {
    const std::string wrong = fixture::wrong_code(enroll("alice"), kEpoch);
    for (int i = 0; i < 3; ++i) login_with_code("alice", wrong, "strict");
    fixture::set_now(kEpoch + 61);
    assert_int_equal(login_with_code("alice", wrong, "strict").rc, PAM_AUTH_ERR);
    assert_int_equal(fixture::read_state("alice").locked_until, kEpoch + 61 + 60);
}

void success_resets_the_failure_count(void**) {
    const auto secret = enroll("alice");
    const std::string wrong = fixture::wrong_code(secret, kEpoch);
    for (int i = 0; i < 2; ++i) login_with_code("alice", wrong, "strict");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_SUCCESS);
    assert_int_equal(fixture::read_state("alice").failures, 0);
}

void unenrolled_user_with_nullok_is_ignored(void**) {
    const auto result = login("nullok", "bob", {password_of("bob")});
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 1);  // only the password
}

void unenrolled_user_without_nullok_is_prompted_then_refused(void**) {
    const auto result = login_with_code("bob", "123456");
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(result.prompts.size(), 2);
    assert_string_equal(result.prompts[1].c_str(), "Verification code: ");
    assert_true(log_contains("not enrolled for user bob"));
}

void unknown_user_is_prompted_then_refused(void**) {
    const auto result = login("login", "mallory", {"whatever", "123456"});
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    assert_true(result.prompts.size() >= 1);
    assert_string_equal(result.prompts.back().c_str(), "Verification code: ");
    assert_true(log_contains("unknown user"));
}

void unknown_user_with_nullok_is_prompted_then_refused(void**) {
    const auto result = login("nullok", "mallory", {"whatever", "123456"});
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    assert_int_not_equal(result.rc, PAM_IGNORE);
    assert_string_equal(result.prompts.back().c_str(), "Verification code: ");
    assert_true(log_contains("unknown user"));
}

void unknown_user_in_a_group_scoped_service_is_refused(void**) {
    const auto result = login("require", "mallory", {"whatever", "123456"});
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    assert_string_equal(result.prompts.back().c_str(), "Verification code: ");
    assert_true(log_contains("unknown user"));
}

// The account is looked up on every login: the record of an account that no longer
// exists is refused like an unknown user, whatever code comes with it.
void record_of_a_deleted_account_is_refused(void**) {
    const auto secret = enroll("ghost");
    const auto result = login("login", "ghost", {"whatever", code_at(secret, kDefault, kEpoch)});
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    assert_true(log_contains("unknown user"));
    assert_false(log_contains("accepted verification code"));
}

// Another spelling of an enrolled account (an alias line sharing its uid, a case variant,
// user@domain) must not find "no record" and pass on nullok with the password alone.
void another_name_of_an_enrolled_account_needs_its_code(void**) {
    const auto secret = enroll("alice");
    for (const char* alias : fixture::kAliceAliases) {
        const auto refused =
            login("nullok", alias, {password_of(alias), fixture::wrong_code(secret, kEpoch)});
        if (refused.rc == PAM_SUCCESS) fail_msg("%s logged in without alice's code", alias);
    }
    assert_true(log_contains("wrong verification code for user alice"));
    assert_true(log_contains("login_name=Alice"));
    fixture::set_now(kEpoch + 30);
    const auto accepted =
        login("nullok", "alice-alias",
              {password_of("alice-alias"), code_at(secret, kDefault, kEpoch + 30)});
    assert_int_equal(accepted.rc, PAM_SUCCESS);
    assert_true(one_token(fixture::read_state("alice")).last_step.value() == (kEpoch + 30) / 30);
}

// An alias line may come before the enrolled name (sorted files, another NSS source first):
// then the uid's own entry is the alias, yet the account is enrolled, under "alice".
void alias_line_before_the_enrolled_name_needs_its_code(void**) {
    const auto secret = enroll("alice");
    const std::string original = fixture::read_file(passwd_file());
    replace_passwd("alice-old:x:1001:1001::/home/alice:/bin/sh\n" + original);
    const auto refused =
        login("nullok", "alice-old", {password_of("alice-old"), wrong_code(secret)});
    const auto own =
        login("nullok", "alice", {password_of("alice"), code_at(secret, kDefault, kEpoch)});
    replace_passwd(original);
    assert_int_equal(refused.rc, PAM_AUTH_ERR);
    assert_int_equal(refused.prompts.size(), 2);
    assert_int_equal(own.rc, PAM_SUCCESS);
    assert_int_equal(fixture::read_state("alice").failures, 0);  // reset by the success
}

// A code alice used is spent for every name of her account, and failures under another
// name count toward her lockout.
void another_name_shares_replay_state_and_failures(void**) {
    const auto secret = enroll("alice");
    const std::string code = code_at(secret, kDefault, kEpoch);
    assert_int_equal(login_with_code("alice", code).rc, PAM_SUCCESS);
    assert_int_equal(login("login", "Alice", {password_of("Alice"), code}).rc, PAM_AUTH_ERR);
    assert_true(log_contains("replayed"));
    assert_int_equal(fixture::read_state("alice").failures, 1);
    assert_false(std::filesystem::exists(fixture::state_file("Alice")));
}

void enrolled_user_with_nullok_still_needs_the_code(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", fixture::wrong_code(secret, kEpoch), "nullok").rc,
                     PAM_AUTH_ERR);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "nullok").rc,
                     PAM_SUCCESS);
}

void require_group_scopes_enforcement(void**) {
    const auto secret = enroll("carol");
    // carol is in totp-users: enforced.
    assert_int_equal(login_with_code("carol", fixture::wrong_code(secret, kEpoch), "require").rc,
                     PAM_AUTH_ERR);
    // alice is not: ignored, the password alone decides.
    const auto alice = login("require", "alice", {password_of("alice")});
    assert_int_equal(alice.rc, PAM_SUCCESS);
    assert_int_equal(alice.prompts.size(), 1);
}

void exempt_group_members_are_not_asked(void**) {
    const auto dave = login("exempt", "dave", {password_of("dave")});
    assert_int_equal(dave.rc, PAM_SUCCESS);
    assert_int_equal(dave.prompts.size(), 1);
    assert_int_equal(login_with_code("alice", "000000", "exempt").rc, PAM_AUTH_ERR);
}

void missing_scope_group_fails_closed(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(
        login_with_code("alice", code_at(secret, kDefault, kEpoch), "missing-group").rc,
        PAM_SERVICE_ERR);
    assert_true(log_contains("no-such-group"));
}

void forward_pass_splits_password_and_code(void**) {
    const auto secret = enroll("alice");
    const auto result =
        login("forward", "alice", {password_of("alice") + code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 1);
    assert_string_equal(result.prompts[0].c_str(), "Password & verification code: ");
    assert_string_equal(result.authtok.c_str(), password_of("alice").c_str());
    assert_true(one_token(fixture::read_state("alice")).last_step.value() == kEpoch / 30);
}

void forward_pass_with_wrong_code_is_refused(void**) {
    const auto secret = enroll("alice");
    const auto result = login("forward", "alice", {password_of("alice") + wrong_code(secret)});
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(fixture::read_state("alice").failures, 1);
}

void forward_pass_accepts_a_recovery_code(void**) {
    enroll("alice", kDefault, {"ABCD-EFGH-JKMN"});
    const auto result = login("forward", "alice", {password_of("alice") + "ABCD-EFGH-JKMN"});
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_string_equal(result.authtok.c_str(), password_of("alice").c_str());
}

// Someone without the password must not be able to lock the user out (or learn whether
// they are enrolled): with forward_pass a wrong password never reaches the code check.
void forward_pass_wrong_password_never_counts_a_failure(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\nmax_failures = 2\n", 0644);
    for (int attempt = 0; attempt < 6; ++attempt) {
        const auto result = login("forward", "alice", {"guessed-pw" + wrong_code(secret)});
        assert_int_not_equal(result.rc, PAM_SUCCESS);
        assert_int_not_equal(result.rc, PAM_MAXTRIES);
    }
    assert_int_equal(fixture::read_state("alice").failures, 0);
    assert_int_equal(fixture::read_state("alice").locked_until, 0);
    const auto result =
        login("forward", "alice", {password_of("alice") + code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

// sshd, sudo and login retry pam_authenticate() on one handle. A code kept by an attempt
// whose password was refused must never be checked (and counted) by the next attempt.
void forward_pass_code_of_a_refused_attempt_is_never_checked_later(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\nmax_failures = 2\n", 0644);
    const std::string wrong = wrong_code(secret);
    const std::vector<int> results = fixture::attempts_on_one_handle(
        "forward", {"alice", "alice", "alice", "alice"},
        {"guess1" + wrong, "guess2" + wrong, "guess3" + wrong, "guess4" + wrong});
    for (int rc : results) assert_int_not_equal(rc, PAM_SUCCESS);
    assert_int_equal(fixture::read_state("alice").failures, 0);
    assert_int_equal(fixture::read_state("alice").locked_until, 0);
}

// login(1) asks for a new user name after a failure: a code kept for bob must not be
// checked against alice's record.
void forward_pass_code_kept_for_another_user_is_never_checked(void**) {
    const auto secret = enroll("alice");
    const std::vector<int> results = fixture::attempts_on_one_handle(
        "forward", {"bob", "alice"},
        {"wrong-pw" + wrong_code(secret), "alice-wrong" + wrong_code(secret)});
    assert_int_not_equal(results[1], PAM_SUCCESS);
    assert_int_equal(fixture::read_state("alice").failures, 0);
}

// A right attempt after refused ones on the same handle still logs in.
void forward_pass_right_attempt_after_a_refused_one_logs_in(void**) {
    const auto secret = enroll("alice");
    const std::vector<int> results = fixture::attempts_on_one_handle(
        "forward", {"alice", "alice"},
        {"guessed" + wrong_code(secret), password_of("alice") + code_at(secret, kDefault, kEpoch)});
    assert_int_not_equal(results[0], PAM_SUCCESS);
    assert_int_equal(results[1], PAM_SUCCESS);
}

// forward_pass in the configuration file would make every pam_totp line split and none
// check: it refuses logins.
void forward_pass_in_the_config_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\nforward_pass = yes\n", 0644);
    const auto result =
        login("forward", "alice", {password_of("alice") + code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SERVICE_ERR);
    assert_true(log_contains("forward_pass belongs on the one pam_totp line"));
}

// During a rollout, a user who has not enrolled types only the password.
void forward_pass_with_nullok_hands_an_unenrolled_users_whole_answer_on(void**) {
    const auto result = login("forward-nullok", "bob", {"bob-pw"});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

// The single forward_pass line of older versions checks no code. It can never succeed on
// its own (PAM_IGNORE), and a login that ends successfully with the code unchecked is
// logged at LOG_CRIT, naming the misconfiguration.
void forward_pass_alone_is_logged_as_unchecked(void**) {
    const auto secret = enroll("alice");
    const auto result =
        login("forward-alone", "alice", {password_of("alice") + wrong_code(secret)});
    assert_int_equal(result.rc, PAM_SUCCESS);  // what such a stack does: see pam_totp(8)
    assert_true(log_contains("no later pam_totp line checked it"));
}

void use_first_pass_reads_the_code_from_authtok(void**) {
    const auto secret = enroll("alice");
    setenv("PAM_AUTHTOK", code_at(secret, kDefault, kEpoch).c_str(), 1);
    const auto result = login("first-pass", "alice", {});
    unsetenv("PAM_AUTHTOK");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 0);
}

void use_first_pass_without_a_code_is_refused(void**) {
    setenv("PAM_AUTHTOK", fixture::wrong_code(enroll("alice"), kEpoch).c_str(), 1);
    const auto result = login("first-pass", "alice", {});
    unsetenv("PAM_AUTHTOK");
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(result.prompts.size(), 0);
}

void try_first_pass_prompts_when_authtok_is_not_a_code(void**) {
    const auto secret = enroll("alice");
    setenv("PAM_AUTHTOK", "a password", 1);
    const auto result = login("try-first-pass", "alice", {code_at(secret, kDefault, kEpoch)});
    unsetenv("PAM_AUTHTOK");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 1);
    assert_int_equal(fixture::read_state("alice").failures, 0);
}

void try_first_pass_uses_a_code_in_authtok(void**) {
    const auto secret = enroll("alice");
    setenv("PAM_AUTHTOK", code_at(secret, kDefault, kEpoch).c_str(), 1);
    const auto result = login("try-first-pass", "alice", {});
    unsetenv("PAM_AUTHTOK");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 0);
}

// Under try_first_pass PAM_AUTHTOK is usually the password: one of letters and digits
// (shaped like a recovery code) must never count as a wrong code.
void try_first_pass_never_counts_a_password_as_a_wrong_code(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\nmax_failures = 1\n", 0644);
    std::int64_t now = kEpoch;
    for (const char* password : {"Summer2024", "Summer-2024", "correcthorse7", "12345678901"}) {
        now += 30;
        fixture::set_now(now);
        setenv("PAM_AUTHTOK", password, 1);
        const auto result = login("try-first-pass", "alice", {code_at(secret, kDefault, now)});
        unsetenv("PAM_AUTHTOK");
        if (result.rc != PAM_SUCCESS) fail_msg("'%s' as PAM_AUTHTOK: rc %d", password, result.rc);
        assert_int_equal(result.prompts.size(), 1);
        assert_int_equal(fixture::read_state("alice").failures, 0);
    }
    assert_int_equal(fixture::read_state("alice").locked_until, 0);
}

void prompt_is_configurable(void**) {
    const auto secret = enroll("alice");
    const auto result = login_with_code("alice", code_at(secret, kDefault, kEpoch), "prompted");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_string_equal(result.prompts[1].c_str(), "Code from your phone: ");
}

void refused_state_fails_closed(const std::string& why) {
    const auto result = login_with_code("alice", "123456");
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(result.prompts.size(), 2);
    if (!log_contains("failing closed")) fail_msg("no fail-closed log line for %s", why.c_str());
}

void corrupt_state_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    std::string text = fixture::read_file(fixture::state_file("alice"));
    text[40] = text[40] == 'x' ? 'y' : 'x';  // inside the record: checksum no longer matches
    fixture::write_file(fixture::state_file("alice"), text);
    refused_state_fails_closed("corrupt");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_AUTH_ERR);
}

// nullok lets only users without a record through, never one whose record is unusable.
void corrupt_state_file_fails_closed_with_nullok(void**) {
    enroll("alice");
    fixture::write_file(fixture::state_file("alice"), "not a state file");
    const auto result = login_with_code("alice", "123456", "nullok");
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(result.prompts.size(), 2);
    assert_true(log_contains("failing closed"));
}

// forward_pass reads the record before the prompt (for its number of digits).
void corrupt_state_file_fails_closed_with_forward_pass(void**) {
    enroll("alice");
    fixture::write_file(fixture::state_file("alice"), "not a state file");
    const auto result = login("forward", "alice", {password_of("alice") + "123456"});
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(result.prompts.size(), 1);
    assert_true(log_contains("failing closed"));
}

// A home that is mounted during the login (pam_mount, ecryptfs, autofs) has no file yet:
// with nullok that would read as "not enrolled". The combination refuses every login.
void home_layout_with_nullok_refuses_logins(void**) {
    const auto result = login_with_code("bob", "123456", "home-nullok");
    assert_int_equal(result.rc, PAM_SERVICE_ERR);
    assert_true(log_contains("nullok cannot be used with secret_path"));
}

void truncated_state_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(truncate(fixture::state_file("alice").c_str(), 100), 0);
    refused_state_fails_closed("truncated");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_AUTH_ERR);
}

void symlinked_state_file_fails_closed(void**) {
    const auto secret = enroll("bob");
    assert_int_equal(
        symlink(fixture::state_file("bob").c_str(), fixture::state_file("alice").c_str()), 0);
    refused_state_fails_closed("symlink");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_AUTH_ERR);
    assert_true(log_contains("symlink"));
}

void world_readable_state_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(chmod(fixture::state_file("alice").c_str(), 0644), 0);
    refused_state_fails_closed("world-readable");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_AUTH_ERR);
}

void wrong_owner_state_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(chown(fixture::state_file("alice").c_str(), 1001, 1001), 0);
    refused_state_fails_closed("wrong owner");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_AUTH_ERR);
}

// A misspelt module argument refuses logins like a misspelt key in the file.
void unknown_module_argument_fails_closed(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "typo").rc,
                     PAM_SERVICE_ERR);
    assert_true(log_contains("<83> pam_totp(typo:auth): unknown setting 'windw'"));  // AUTHPRIV|ERR
}

// "nullok=" must not read as nullok: an unenrolled user is not let through.
void empty_nullok_argument_fails_closed(void**) {
    const auto result = login_with_code("bob", "123456", "empty-nullok");
    assert_int_equal(result.rc, PAM_SERVICE_ERR);
    assert_true(log_contains("empty value for yes/no argument 'nullok'"));
}

void unknown_key_in_config_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\nmax_failurez = 3\n", 0644);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc,
                     PAM_SERVICE_ERR);
    assert_true(log_contains("max_failurez"));
}

void bad_security_setting_fails_closed(void**) {
    const auto secret = enroll("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "bad-window").rc,
                     PAM_SERVICE_ERR);
    assert_true(log_contains("window"));
}

void writable_config_file_fails_closed(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\n", 0666);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc,
                     PAM_SERVICE_ERR);
}

void config_file_sets_policy_and_arguments_override_it(void**) {
    const auto secret = enroll("alice");
    fixture::write_file(fixture::paths().config, "[global]\nwindow = 0\n", 0644);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch - 30)).rc,
                     PAM_AUTH_ERR);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch - 60), "wide").rc,
                     PAM_SUCCESS);
}

void log_names_user_service_and_rhost_but_no_secrets(void**) {
    const auto secret = enroll("alice");
    const std::string code = code_at(secret, kDefault, kEpoch);
    const auto result =
        fixture::login_from("login", "alice", {password_of("alice"), code}, "203.0.113.7");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(log_contains("for user alice (service=login rhost=203.0.113.7)"));
    login_with_code("alice", fixture::wrong_code(secret, kEpoch));
    const std::string log = fixture::read_log();
    assert_true(log.find(code) == std::string::npos);
    assert_true(log.find(password_of("alice")) == std::string::npos);
    assert_true(log.find(std::string(totp::base32_encode(secret.span()).view())) ==
                std::string::npos);
}

// A remote host name is the client's: an 8-bit CSI (0x9b) drives some terminals reading the
// log, a right-to-left override (U+202E) makes the line read backwards, CR LF forges a line.
void rhost_bytes_outside_printable_ascii_reach_the_log_as_question_marks(void**) {
    const auto secret = enroll("alice");
    const auto result = fixture::login_from(
        "login", "alice", {password_of("alice"), code_at(secret, kDefault, kEpoch)},
        "evil\x9b"
        "31m\xe2\x80\xae"
        "x\r\nforged");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_true(log_contains("rhost=evil?31m???x??forged)"));
    for (const char c : fixture::read_log()) {
        assert_true(static_cast<unsigned char>(c) < 0x80);
    }
}

void sha256_eight_digit_sixty_second_enrollment_logs_in(void**) {
    const totp::OtpParams params{totp::Algorithm::sha256, 8, 60};
    const auto secret = enroll("alice", params);
    const auto result = login_with_code("alice", code_at(secret, params, kEpoch));
    assert_int_equal(result.rc, PAM_SUCCESS);
}

void unsafe_user_name_is_refused_before_any_path_is_built(void**) {
    const auto result = login("login", "../state/alice", {"x", "123456"});
    assert_int_not_equal(result.rc, PAM_SUCCESS);
    assert_string_equal(result.prompts.back().c_str(), "Verification code: ");
    assert_true(log_contains("refusing unsafe user name"));
}

// The home layout: <root>/home/<user>/totp-state, owned by the user.
std::string home_state(const std::string& user) {
    const std::string home = fixture::paths().root + "/home/" + user;
    assert_int_equal(chmod(fixture::paths().root.c_str(), 0755), 0);  // users must reach it
    mkdir((fixture::paths().root + "/home").c_str(), 0755);
    mkdir(home.c_str(), 0700);
    const uid_t uid = user == "alice" ? 1001 : 1002;
    assert_int_equal(chown(home.c_str(), uid, uid), 0);
    const std::string path = home + "/totp-state";
    return path;
}

totp::SecretBytes enroll_in_home(const std::string& user) {
    const std::string path = home_state(user);
    unlink(path.c_str());  // start from no enrollment
    auto store =
        totp::make_file_store({.state_dir = fixture::paths().state_dir,
                               .secret_path = fixture::paths().root + "/home/%u/totp-state"});
    auto record = store->open(user);
    if (!record) fail_msg("%s", record.error().message.c_str());
    totp::UserState state;
    one_token(state).secret = totp::SecretBytes(20);
    assert_true(totp::random_bytes(one_token(state).secret.data(), one_token(state).secret.size()));
    assert_true((*record)->save(state).ok());
    struct stat st {};
    assert_int_equal(stat(path.c_str(), &st), 0);
    assert_int_equal(st.st_uid, 1001);  // written with the user's filesystem identity
    return one_token(state).secret.clone();
}

void home_layout_file_owned_by_the_user_logs_in(void**) {
    const auto secret = enroll_in_home("alice");
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "home").rc,
                     PAM_SUCCESS);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "home").rc,
                     PAM_AUTH_ERR);  // replay protection works in the home layout too
}

// In the home layout with %u, another name of alice's account expands to a path of its
// own that does not exist: that login fails closed, never as "not enrolled".
void home_layout_another_name_fails_closed(void**) {
    const auto secret = enroll_in_home("alice");
    const auto result =
        login("home", "Alice", {password_of("Alice"), code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_true(log_contains("failing closed"));
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "home").rc,
                     PAM_SUCCESS);  // the refused attempt spent nothing
}

// A lost state directory (deleted, left out of a restore) refuses everyone, even with nullok
// and for users who never enrolled: it must never read as "nobody is enrolled"
// (docs/admin-guide.md, "If the state directory is lost").
void lost_state_directory_refuses_everyone_even_with_nullok(void**) {
    const auto secret = fixture::enroll("alice");
    std::filesystem::remove_all(fixture::paths().state_dir);
    assert_int_equal(login("nullok", "bob", {password_of("bob"), "123456"}).rc, PAM_AUTH_ERR);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "nullok").rc,
                     PAM_AUTH_ERR);
    assert_true(log_contains("does not exist"));
}

void home_layout_group_readable_file_is_refused(void**) {
    const auto secret = enroll_in_home("alice");
    assert_int_equal(chmod(home_state("alice").c_str(), 0640), 0);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "home").rc,
                     PAM_AUTH_ERR);
    assert_true(log_contains("failing closed"));
}

void home_layout_file_not_owned_by_the_user_is_refused(void**) {
    const auto secret = enroll_in_home("alice");
    assert_int_equal(chown(home_state("alice").c_str(), 0, 0), 0);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch), "home").rc,
                     PAM_AUTH_ERR);
    assert_true(log_contains("failing closed"));
}

// Mounts are only safe inside the private mount namespace tests/support/with_private_tmp.sh
// provides (ctest runs this program through it; it skips the whole program where no
// namespace can be made).
void require_private_namespace() {
    const char* flag = std::getenv("TOTP_IN_PRIVATE_TMP");
    if (flag == nullptr || std::string(flag) != "1") {
        fail_msg(
            "mounts need the private namespace: run through tests/support/with_private_tmp.sh");
    }
}

void read_only_store_fails_closed_and_keeps_the_file(void**) {
    require_private_namespace();
    const auto secret = enroll("alice");
    const std::string before = fixture::read_file(fixture::state_file("alice"));
    const std::string dir = fixture::paths().state_dir;
    assert_int_equal(mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr), 0);
    assert_int_equal(
        mount(nullptr, dir.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr), 0);
    const auto result = login_with_code("alice", code_at(secret, kDefault, kEpoch));
    umount(dir.c_str());
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_true(log_contains("failing closed"));
    assert_true(fixture::read_file(fixture::state_file("alice")) == before);
}

void full_disk_still_records_logins_in_place(void**) {
    require_private_namespace();
    const std::string dir = fixture::paths().state_dir;
    assert_int_equal(mount("pam-test-full", dir.c_str(), "tmpfs", 0, "size=64k,mode=0700"), 0);
    const auto secret = enroll("alice");
    // Fill the filesystem completely.
    const int filler = open((dir + "/.filler").c_str(), O_WRONLY | O_CREAT, 0600);
    const std::string block(4096, 'x');
    while (write(filler, block.data(), block.size()) > 0) {
    }
    close(filler);
    // Each record is preallocated: a login needs no new blocks, so it still works and
    // its failure counts are still recorded.
    assert_int_equal(login_with_code("alice", fixture::wrong_code(secret, kEpoch)).rc,
                     PAM_AUTH_ERR);
    assert_int_equal(fixture::read_state("alice").failures, 1);
    assert_int_equal(login_with_code("alice", code_at(secret, kDefault, kEpoch)).rc, PAM_SUCCESS);
    umount(dir.c_str());
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, fixture::reset)
        CASE(valid_code_logs_in),
        CASE(wrong_password_with_right_code_is_refused),
        CASE(wrong_code_is_refused_and_counted),
        CASE(replayed_code_is_refused),
        CASE(older_code_after_newer_one_is_refused),
        CASE(codes_one_step_either_side_are_accepted),
        CASE(codes_two_steps_away_are_refused),
        CASE(window_edges_follow_the_clock_within_a_step),
        CASE(window_setting_is_honoured),
        CASE(recovery_code_is_accepted_once),
        CASE(lockout_after_max_failures_then_unlock),
        CASE(failure_after_lock_expiry_relocks_at_once),
        CASE(success_resets_the_failure_count),
        CASE(unenrolled_user_with_nullok_is_ignored),
        CASE(unenrolled_user_without_nullok_is_prompted_then_refused),
        CASE(unknown_user_is_prompted_then_refused),
        CASE(unknown_user_with_nullok_is_prompted_then_refused),
        CASE(unknown_user_in_a_group_scoped_service_is_refused),
        CASE(record_of_a_deleted_account_is_refused),
        CASE(another_name_of_an_enrolled_account_needs_its_code),
        CASE(another_name_shares_replay_state_and_failures),
        CASE(alias_line_before_the_enrolled_name_needs_its_code),
        CASE(home_layout_with_nullok_refuses_logins),
        CASE(enrolled_user_with_nullok_still_needs_the_code),
        CASE(require_group_scopes_enforcement),
        CASE(exempt_group_members_are_not_asked),
        CASE(missing_scope_group_fails_closed),
        CASE(forward_pass_splits_password_and_code),
        CASE(forward_pass_with_wrong_code_is_refused),
        CASE(forward_pass_accepts_a_recovery_code),
        CASE(forward_pass_wrong_password_never_counts_a_failure),
        CASE(forward_pass_code_of_a_refused_attempt_is_never_checked_later),
        CASE(forward_pass_code_kept_for_another_user_is_never_checked),
        CASE(forward_pass_right_attempt_after_a_refused_one_logs_in),
        CASE(forward_pass_in_the_config_file_fails_closed),
        CASE(forward_pass_with_nullok_hands_an_unenrolled_users_whole_answer_on),
        CASE(forward_pass_alone_is_logged_as_unchecked),
        CASE(use_first_pass_reads_the_code_from_authtok),
        CASE(use_first_pass_without_a_code_is_refused),
        CASE(try_first_pass_prompts_when_authtok_is_not_a_code),
        CASE(try_first_pass_uses_a_code_in_authtok),
        CASE(try_first_pass_never_counts_a_password_as_a_wrong_code),
        CASE(prompt_is_configurable),
        CASE(corrupt_state_file_fails_closed),
        CASE(corrupt_state_file_fails_closed_with_nullok),
        CASE(corrupt_state_file_fails_closed_with_forward_pass),
        CASE(truncated_state_file_fails_closed),
        CASE(symlinked_state_file_fails_closed),
        CASE(world_readable_state_file_fails_closed),
        CASE(wrong_owner_state_file_fails_closed),
        CASE(unknown_module_argument_fails_closed),
        CASE(empty_nullok_argument_fails_closed),
        CASE(unknown_key_in_config_file_fails_closed),
        CASE(bad_security_setting_fails_closed),
        CASE(writable_config_file_fails_closed),
        CASE(config_file_sets_policy_and_arguments_override_it),
        CASE(log_names_user_service_and_rhost_but_no_secrets),
        CASE(rhost_bytes_outside_printable_ascii_reach_the_log_as_question_marks),
        CASE(sha256_eight_digit_sixty_second_enrollment_logs_in),
        CASE(unsafe_user_name_is_refused_before_any_path_is_built),
        CASE(home_layout_file_owned_by_the_user_logs_in),
        CASE(home_layout_another_name_fails_closed),
        CASE(lost_state_directory_refuses_everyone_even_with_nullok),
        CASE(home_layout_group_readable_file_is_refused),
        CASE(home_layout_file_not_owned_by_the_user_is_refused),
        CASE(read_only_store_fails_closed_and_keeps_the_file),
        CASE(full_disk_still_records_logins_in_place),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
