// SPDX-License-Identifier: Apache-2.0
// Conversations that cannot ask a second question. sshd's password authentication
// (PasswordAuthentication without KbdInteractiveAuthentication, Debian's stock sshd_config)
// answers every hidden prompt with the password and fails every visible one; other callers
// have no conversation at all, or one that fails. Such an attempt is refused without
// counting toward the lockout and without using up anything, so five ssh password attempts
// cannot lock a user out of sudo and su.

#include <security/pam_appl.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fixture.hpp"
#include "one_token.hpp"

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
using fixture::password_of;

namespace {

const totp::OtpParams kDefault{};
constexpr int kAttempts = 10;  // twice the default max_failures

// What sshd's sshpam_passwd_conv (auth-pam.c) does with the password the client sent:
// every echo-off prompt gets it, an echo-on prompt fails the conversation, messages are
// kept for later.
int answer_everything_with_the_password(int count, const pam_message** messages,
                                        pam_response** responses, void* data) {
    const auto* password = static_cast<const std::string*>(data);
    auto* replies = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    if (replies == nullptr) return PAM_BUF_ERR;
    for (int i = 0; i < count; ++i) {
        const int style = messages[i]->msg_style;
        if (style == PAM_PROMPT_ECHO_ON) {
            for (int j = 0; j < i; ++j) std::free(replies[j].resp);
            std::free(replies);
            return PAM_CONV_ERR;
        }
        replies[i].resp = strdup(style == PAM_PROMPT_ECHO_OFF ? password->c_str() : "");
    }
    *responses = replies;
    return PAM_SUCCESS;
}

// A conversation that says it succeeded but gives no answer.
int answer_nothing(int count, const pam_message**, pam_response** responses, void*) {
    *responses = static_cast<pam_response*>(std::calloc(count, sizeof(pam_response)));
    return *responses == nullptr ? PAM_BUF_ERR : PAM_SUCCESS;
}

int authenticate_with(const std::string& service, const std::string& user, const pam_conv& conv) {
    pam_handle_t* handle = nullptr;
    if (pam_start(service.c_str(), user.c_str(), &conv, &handle) != PAM_SUCCESS) {
        fail_msg("pam_start(%s) failed", service.c_str());
    }
    const int rc = pam_authenticate(handle, 0);
    pam_end(handle, rc);
    return rc;
}

int login_as_sshd_password_authentication(const std::string& service, const std::string& user,
                                          const std::string& password) {
    std::string answer = password;
    const pam_conv conv{answer_everything_with_the_password, &answer};
    return authenticate_with(service, user, conv);
}

void assert_nothing_counted_or_spent(const std::string& user) {
    const totp::UserState state = fixture::read_state(user);
    assert_int_equal(state.failures, 0);
    assert_int_equal(state.locked_until, 0);
    assert_false(one_token(state).last_step.has_value());
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    const std::string totp_module = std::string("auth required ") + TOTP_MODULE_PATH +
                                    " state_dir=" + fixture::paths().state_dir +
                                    " config=" + fixture::paths().config;
    const std::string totp_line = totp_module + "\n";
    // Like pam_unix, the password module leaves the password it asked for as PAM_AUTHTOK.
    fixture::write_raw_service(
        "unix-like", std::string("auth requisite ") + TOTP_TEST_PASSWORD_MODULE + "\n" + totp_line);
    // try_first_pass: PAM_AUTHTOK is taken as the code when it has the shape of one, and
    // otherwise the code is asked.
    fixture::write_raw_service("unix-like-try-first-pass", std::string("auth requisite ") +
                                                               TOTP_TEST_PASSWORD_MODULE + "\n" +
                                                               totp_module + " try_first_pass\n");
    // Only the code is asked: a failing conversation reaches pam_totp first.
    fixture::write_raw_service("code-only", totp_line);
    // PAM_AUTHTOK set by an earlier module (pam_set_items reads it from the environment).
    fixture::write_raw_service("authtok-set", std::string("auth required ") +
                                                  TOTP_PAM_WRAPPER_MODULES + "/pam_set_items.so\n" +
                                                  totp_line);
    return 0;
}

void sshd_password_authentication_never_counts_toward_the_lockout(void**) {
    const auto secret = enroll("alice");
    for (int i = 0; i < kAttempts; ++i) {
        assert_int_equal(
            login_as_sshd_password_authentication("unix-like", "alice", password_of("alice")),
            PAM_AUTH_ERR);
    }
    assert_nothing_counted_or_spent("alice");
    assert_true(log_contains("the conversation answered the code prompt with the password"));
    assert_true(log_contains("KbdInteractiveAuthentication"));
    assert_false(log_contains("wrong verification code"));
    assert_false(log_contains("locked out"));

    // sudo, su and a keyboard-interactive ssh login still work with the code.
    const auto result = fixture::login("unix-like", "alice",
                                       {password_of("alice"), code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

// With try_first_pass the password (not shaped like a code) is not taken as the code, so the
// code is asked, and sshd's password authentication answers with the password again: refused
// there too without counting it.
void try_first_pass_password_answered_at_the_prompt_never_counts_toward_the_lockout(void**) {
    const auto secret = enroll("alice");
    for (int i = 0; i < kAttempts; ++i) {
        assert_int_equal(login_as_sshd_password_authentication("unix-like-try-first-pass", "alice",
                                                               password_of("alice")),
                         PAM_AUTH_ERR);
    }
    assert_nothing_counted_or_spent("alice");
    assert_true(log_contains("the conversation answered the code prompt with the password"));
    assert_false(log_contains("wrong verification code"));

    const auto result = fixture::login("unix-like-try-first-pass", "alice",
                                       {password_of("alice"), code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

// The answer is refused for being the password before anything is examined: a password
// that happens to be the current code is not accepted and does not use the code up.
void password_given_as_the_code_is_refused_even_when_it_is_a_valid_code(void**) {
    const auto secret = enroll("alice");
    const std::string code = code_at(secret, kDefault, kEpoch);
    setenv("PAM_AUTHTOK", code.c_str(), 1);
    const int rc = login_as_sshd_password_authentication("authtok-set", "alice", code);
    unsetenv("PAM_AUTHTOK");
    assert_int_equal(rc, PAM_AUTH_ERR);
    assert_nothing_counted_or_spent("alice");
    assert_true(log_contains("the conversation answered the code prompt with the password"));
    assert_false(log_contains("accepted verification code"));

    const auto result = fixture::login("login", "alice", {password_of("alice"), code});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

// sshd hands PAM a placeholder of the answer's length instead of the answer when it will
// not let the account in that way (root under PermitRootLogin prohibit-password with the
// public-key drop-in): OpenSSH's fake_password() in auth.c.
std::string sshd_placeholder(std::size_t length) {
    const std::string pattern = "\b\n\r\177INCORRECT";
    std::string placeholder;
    for (std::size_t i = 0; i < length; ++i) placeholder += pattern[i % pattern.size()];
    return placeholder;
}

void sshd_placeholder_answer_never_counts_toward_the_lockout(void**) {
    const auto secret = enroll("alice");
    for (int i = 0; i < kAttempts; ++i) {
        const auto result = fixture::login("unix-like", "alice",
                                           {password_of("alice"), sshd_placeholder(6 + i % 3)});
        assert_int_equal(result.rc, PAM_AUTH_ERR);
    }
    assert_nothing_counted_or_spent("alice");
    assert_true(log_contains("sshd replaced the answer to the code prompt"));
    const auto result = fixture::login("unix-like", "alice",
                                       {password_of("alice"), code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

void conversation_failing_at_the_code_prompt_is_not_counted(void**) {
    const auto secret = enroll("alice");
    for (int i = 0; i < kAttempts; ++i) {
        // The password is answered, the code prompt gets PAM_CONV_ERR.
        const auto result = fixture::login("login", "alice", {password_of("alice")});
        assert_int_equal(result.rc, PAM_CONV_ERR);
    }
    assert_nothing_counted_or_spent("alice");
    assert_true(log_contains("conversation failed"));
    const auto result =
        fixture::login("login", "alice", {password_of("alice"), code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

void conversation_without_an_answer_is_not_counted(void**) {
    const auto secret = enroll("alice");
    const pam_conv conv{answer_nothing, nullptr};
    for (int i = 0; i < kAttempts; ++i)
        assert_int_equal(authenticate_with("code-only", "alice", conv), PAM_CONV_ERR);
    assert_nothing_counted_or_spent("alice");
    const auto result = fixture::login("code-only", "alice", {code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

void missing_conversation_function_is_not_counted(void**) {
    const auto secret = enroll("alice");
    const pam_conv conv{nullptr, nullptr};
    for (int i = 0; i < kAttempts; ++i)
        assert_int_not_equal(authenticate_with("code-only", "alice", conv), PAM_SUCCESS);
    assert_nothing_counted_or_spent("alice");
    const auto result = fixture::login("code-only", "alice", {code_at(secret, kDefault, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
}

// The comparison is with this attempt's password only: a code typed at the prompt is
// checked and counted as always.
void wrong_code_typed_at_the_prompt_still_counts(void**) {
    const auto secret = enroll("alice");
    const auto result = fixture::login("login", "alice",
                                       {password_of("alice"), fixture::wrong_code(secret, kEpoch)});
    assert_int_equal(result.rc, PAM_AUTH_ERR);
    assert_int_equal(fixture::read_state("alice").failures, 1);
    assert_false(log_contains("answered the code prompt with the password"));
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, fixture::reset)
        CASE(sshd_password_authentication_never_counts_toward_the_lockout),
        CASE(try_first_pass_password_answered_at_the_prompt_never_counts_toward_the_lockout),
        CASE(password_given_as_the_code_is_refused_even_when_it_is_a_valid_code),
        CASE(sshd_placeholder_answer_never_counts_toward_the_lockout),
        CASE(conversation_failing_at_the_code_prompt_is_not_counted),
        CASE(conversation_without_an_answer_is_not_counted),
        CASE(missing_conversation_function_is_not_counted),
        CASE(wrong_code_typed_at_the_prompt_still_counts),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
