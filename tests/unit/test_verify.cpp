// SPDX-License-Identifier: Apache-2.0
// The shared second-factor decision (core/verify): codes, replays, recovery codes and
// the failure count / lockout rules, without PAM.
#include <string>

#include "totp/otp.hpp"
#include "totp/recovery.hpp"
#include "totp/verify.hpp"

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

constexpr std::int64_t kNow = 1'700'000'000;
const totp::Policy kPolicy{.window = 1, .max_failures = 3, .lockout_seconds = 60};

totp::UserState make_state() {
    totp::UserState state;
    state.secret = totp::SecretBytes(20);
    assert_true(totp::random_bytes(state.secret.data(), state.secret.size()));
    auto normalized = totp::normalize_recovery_code("ABCD-EFGH-JKMN");
    auto hash = totp::hash_recovery_code(normalized->view());
    assert_true(hash.ok());
    state.recovery.push_back(*hash);
    return state;
}

std::string code(const totp::UserState& state, std::int64_t at) {
    auto value = totp::hotp(state.secret, totp::time_step(at, 30), totp::Algorithm::sha1, 6);
    assert_true(value.ok());
    return std::string(value->view());
}

void current_code_is_accepted_and_recorded(void**) {
    auto state = make_state();
    const auto decision = totp::decide(state, code(state, kNow), kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_true(decision.state_changed);
    assert_true(state.last_step == static_cast<std::uint64_t>(kNow / 30));
}

void same_code_twice_is_a_replay_and_a_failure(void**) {
    auto state = make_state();
    const std::string value = code(state, kNow);
    (void)totp::decide(state, value, kPolicy, kNow);
    const auto decision = totp::decide(state, value, kPolicy, kNow + 5);
    assert_int_equal(decision.verdict, totp::Verdict::replayed);
    assert_int_equal(state.failures, 1);
}

void recovery_code_is_consumed(void**) {
    auto state = make_state();
    assert_int_equal(totp::decide(state, "abcd efgh jkmn", kPolicy, kNow).verdict,
                     totp::Verdict::accepted_recovery);
    assert_true(state.recovery.empty());
    assert_int_equal(totp::decide(state, "ABCD-EFGH-JKMN", kPolicy, kNow).verdict,
                     totp::Verdict::wrong);
}

void failures_lock_after_the_maximum(void**) {
    auto state = make_state();
    assert_false(totp::decide(state, "000000", kPolicy, kNow).lockout_started);
    assert_false(totp::decide(state, "000000", kPolicy, kNow).lockout_started);
    const auto third = totp::decide(state, "000000", kPolicy, kNow);
    assert_true(third.lockout_started);
    assert_int_equal(state.locked_until, kNow + 60);
}

void locked_user_is_refused_without_examining_or_changing_anything(void**) {
    auto state = make_state();
    state.failures = 3;
    state.locked_until = kNow + 10;
    const auto decision = totp::decide(state, code(state, kNow), kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::locked);
    assert_false(decision.state_changed);
    assert_false(state.last_step.has_value());
    assert_int_equal(state.failures, 3);
}

void lock_ends_at_locked_until(void**) {
    auto state = make_state();
    state.failures = 3;
    state.locked_until = kNow;
    assert_int_equal(totp::decide(state, code(state, kNow), kPolicy, kNow).verdict,
                     totp::Verdict::accepted_code);
    assert_int_equal(state.failures, 0);
    assert_int_equal(state.locked_until, 0);
}

void digit_scratch_codes_work_as_recovery_codes(void**) {
    auto state = make_state();
    auto hash = totp::hash_recovery_code("12345678");
    assert_true(hash.ok());
    state.recovery.push_back(*hash);
    assert_int_equal(totp::decide(state, "12345678", kPolicy, kNow).verdict,
                     totp::Verdict::accepted_recovery);
    assert_int_equal(state.recovery.size(), 1);
}

// Found by tests/fuzz/fuzz_verify: counting past what a state file can hold made the state
// unsavable, so further failures were not recorded and renewed no lockout.
void failure_count_stops_at_the_state_format_limit_and_still_locks(void**) {
    auto state = make_state();
    state.failures = 1000000;
    const auto decision = totp::decide(state, "000000", kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::wrong);
    assert_true(decision.lockout_started);
    assert_int_equal(state.failures, 1000000);
    assert_int_equal(state.locked_until, kNow + 60);
    assert_true(totp::encode_slot(state, 2).ok());
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(current_code_is_accepted_and_recorded),
        cmocka_unit_test(same_code_twice_is_a_replay_and_a_failure),
        cmocka_unit_test(recovery_code_is_consumed),
        cmocka_unit_test(failures_lock_after_the_maximum),
        cmocka_unit_test(locked_user_is_refused_without_examining_or_changing_anything),
        cmocka_unit_test(lock_ends_at_locked_until),
        cmocka_unit_test(digit_scratch_codes_work_as_recovery_codes),
        cmocka_unit_test(failure_count_stops_at_the_state_format_limit_and_still_locks),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
