// SPDX-License-Identifier: Apache-2.0
// Many processes logging in as one user at the same moment: the store's lock must make
// exactly one of them win a code, and count every failure.
#include <cstdint>
#include <string>

#include "fixture.hpp"
#include "one_token.hpp"
#include "totp/base32.hpp"

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

constexpr int kProcesses = 24;

// kProcesses logins to `service` as `user` with `code`, all at once; how many succeeded.
int race(const std::string& service, const std::string& user, const std::string& code) {
    return fixture::race(kProcesses, [&](int) {
        return fixture::login(service, user, {fixture::password_of(user), code}).rc == 0;
    });
}

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "max_failures=1000");
    return 0;
}

void same_valid_code_from_many_processes_succeeds_exactly_once(void**) {
    for (int round = 0; round < 3; ++round) {
        const auto secret = fixture::enroll("alice");
        const std::string code = fixture::code_at(secret, {}, fixture::kEpoch);
        assert_int_equal(race("login", "alice", code), 1);
        const auto state = fixture::read_state("alice");
        assert_true(one_token(state).last_step.value() == fixture::kEpoch / 30);
        // Every loser presented a used step: a replay, and each one was counted.
        assert_int_equal(state.failures, kProcesses - 1);
    }
}

void same_hotp_code_from_many_processes_succeeds_exactly_once(void**) {
    constexpr const char* kTokenSecret = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U";
    totp::UserState state = fixture::new_state();
    totp::Authenticator token;
    token.name = "yubikey";
    token.type = totp::OtpType::hotp;
    token.secret = std::move(totp::base32_decode(kTokenSecret)).value();
    token.counter = 7;
    assert_true(totp::add_authenticator(state, std::move(token), 8).ok());
    fixture::write_state("alice", state);

    // Three presses ahead, by oathtool.
    const std::string code =
        fixture::oathtool("--hotp --base32 --counter=10 " + std::string(kTokenSecret));
    assert_int_equal(race("login", "alice", code), 1);
    const totp::UserState after = fixture::read_state("alice");
    assert_true(after.authenticators[1].counter == 11u);
    assert_false(one_token(after).last_step.has_value());
    // Every loser found the counter already past the code, and each one was counted.
    assert_int_equal(after.failures, kProcesses - 1);
}

void concurrent_wrong_codes_are_all_counted(void**) {
    const std::string wrong = fixture::wrong_code(fixture::enroll("alice"), fixture::kEpoch);
    assert_int_equal(race("login", "alice", wrong), 0);
    assert_int_equal(fixture::read_state("alice").failures, kProcesses);
    assert_int_equal(race("login", "alice", wrong), 0);
    assert_int_equal(fixture::read_state("alice").failures, 2 * kProcesses);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test_setup(same_valid_code_from_many_processes_succeeds_exactly_once,
                               fixture::reset),
        cmocka_unit_test_setup(same_hotp_code_from_many_processes_succeeds_exactly_once,
                               fixture::reset),
        cmocka_unit_test_setup(concurrent_wrong_codes_are_all_counted, fixture::reset),
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
