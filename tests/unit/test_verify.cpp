// SPDX-License-Identifier: Apache-2.0
// The shared second-factor decision (core/verify): codes, replays, recovery codes and
// the failure count / lockout rules, without PAM.
#include <syslog.h>

#include <string>
#include <string_view>
#include <vector>

#include "one_token.hpp"
#include "totp/attempt.hpp"
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
    one_token(state).secret = totp::SecretBytes(20);
    assert_true(totp::random_bytes(one_token(state).secret.data(), one_token(state).secret.size()));
    auto normalized = totp::normalize_recovery_code("ABCD-EFGH-JKMN");
    auto hash = totp::hash_recovery_code(normalized->view());
    assert_true(hash.ok());
    state.recovery.push_back(*hash);
    return state;
}

std::string code(const totp::UserState& state, std::int64_t at) {
    auto value =
        totp::hotp(one_token(state).secret, totp::time_step(at, 30), totp::Algorithm::sha1, 6);
    assert_true(value.ok());
    return std::string(value->view());
}

void current_code_is_accepted_and_recorded(void**) {
    auto state = make_state();
    const auto decision = totp::decide(state, code(state, kNow), kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_true(decision.state_changed);
    assert_true(one_token(state).last_step == static_cast<std::uint64_t>(kNow / 30));
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
    assert_false(one_token(state).last_step.has_value());
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

totp::Authenticator hotp_token(std::string name, std::uint64_t counter) {
    totp::Authenticator token;
    token.name = std::move(name);
    token.type = totp::OtpType::hotp;
    token.secret = totp::SecretBytes(20);
    assert_true(totp::random_bytes(token.secret.data(), token.secret.size()));
    token.counter = counter;
    return token;
}

std::string counter_code(const totp::Authenticator& token, std::uint64_t counter) {
    auto value = totp::hotp(token.secret, counter, token.params.algorithm, token.params.digits);
    assert_true(value.ok());
    return std::string(value->view());
}

void a_code_of_any_authenticator_is_accepted_and_moves_only_its_state(void**) {
    auto state = make_state();
    assert_true(totp::add_authenticator(state, hotp_token("yubikey", 5), 8).ok());
    const std::string hotp_code = counter_code(state.authenticators[1], 5);
    auto decision = totp::decide(state, hotp_code, kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_int_equal(decision.authenticator, 1);
    assert_true(state.authenticators[1].counter == 6u);
    assert_true(state.authenticators[1].last_used == kNow);
    assert_false(one_token(state).last_step.has_value());  // the phone's state is untouched
    assert_true(one_token(state).last_used == 0);

    decision = totp::decide(state, code(state, kNow), kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_int_equal(decision.authenticator, 0);
    assert_true(state.authenticators[1].counter == 6u);
}

void hotp_accepts_codes_up_to_the_window_ahead_and_then_refuses_older_ones(void**) {
    totp::UserState state = make_state();
    assert_true(totp::add_authenticator(state, hotp_token("yubikey", 100), 8).ok());
    const totp::Authenticator& token = state.authenticators[1];
    const std::string beyond = counter_code(token, 100 + kPolicy.hotp_window + 1);
    const std::string ahead = counter_code(token, 104);
    const std::string skipped = counter_code(token, 102);
    assert_int_equal(totp::decide(state, beyond, kPolicy, kNow).verdict, totp::Verdict::wrong);
    assert_int_equal(totp::decide(state, ahead, kPolicy, kNow).verdict,
                     totp::Verdict::accepted_code);
    assert_true(state.authenticators[1].counter == 105u);
    assert_int_equal(totp::decide(state, skipped, kPolicy, kNow).verdict, totp::Verdict::wrong);
    assert_int_equal(totp::decide(state, ahead, kPolicy, kNow).verdict, totp::Verdict::wrong);
    assert_true(state.authenticators[1].counter == 105u);  // failures never move it
}

void totp_offset_moves_the_window_and_replay_stays_exact(void**) {
    auto state = make_state();
    one_token(state).offset = 3;  // the token runs three steps ahead
    const std::string ahead = code(state, kNow + 3 * 30);
    assert_int_equal(totp::decide(state, code(state, kNow), kPolicy, kNow).verdict,
                     totp::Verdict::wrong);
    auto decision = totp::decide(state, ahead, kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_true(one_token(state).last_step == static_cast<std::uint64_t>(kNow / 30 + 3));
    assert_int_equal(decision.offset_nudge, 0);
    assert_int_equal(totp::decide(state, ahead, kPolicy, kNow + 20).verdict,
                     totp::Verdict::replayed);
}

void two_codes_in_a_row_at_one_edge_nudge_the_offset_by_one_step_within_the_bound(void**) {
    auto state = make_state();
    auto decision = totp::decide(state, code(state, kNow + 30), kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_int_equal(decision.offset_nudge, 0);  // once is a code typed as the step turned
    decision = totp::decide(state, code(state, kNow + 60), kPolicy, kNow + 90);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_int_equal(decision.offset_nudge, 0);  // the other edge: no drift to follow
    decision = totp::decide(state, code(state, kNow + 180), kPolicy, kNow + 150);
    assert_int_equal(decision.offset_nudge, 0);
    decision = totp::decide(state, code(state, kNow + 300), kPolicy, kNow + 270);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_int_equal(decision.offset_nudge, 1);  // the second in a row at the late edge
    assert_int_equal(one_token(state).offset, 1);

    state = make_state();
    one_token(state).offset = -totp::kMaxClockOffsetSeconds / 30;
    one_token(state).last_used = kNow - 300;
    one_token(state).last_step = static_cast<std::uint64_t>((kNow - 300) / 30 - 21);
    decision = totp::decide(state, code(state, kNow - 21 * 30), kPolicy, kNow);
    assert_int_equal(decision.verdict, totp::Verdict::accepted_code);
    assert_int_equal(decision.offset_nudge, 0);  // already at the bound
    assert_int_equal(one_token(state).offset, -20);
}

void resync_finds_two_consecutive_hotp_codes_and_sets_the_counter_past_them(void**) {
    totp::Authenticator token = hotp_token("yubikey", 10);
    const std::string first = counter_code(token, 60);
    const std::string second = counter_code(token, 61);
    assert_int_equal(totp::resync(token, second, first, kNow).error().code, totp::Errc::not_found);
    assert_true(totp::resync(token, first, second, kNow).ok());
    assert_true(token.counter == 62u);
    const std::string far = counter_code(token, 62 + totp::kResyncCounters + 1);
    const std::string after = counter_code(token, 62 + totp::kResyncCounters + 2);
    assert_false(totp::resync(token, far, after, kNow).ok());
    assert_true(token.counter == 62u);
}

void resync_sets_a_totp_offset_and_marks_both_codes_used(void**) {
    auto state = make_state();
    totp::Authenticator& token = one_token(state);
    const std::string first = code(state, kNow - 4 * 30);
    const std::string second = code(state, kNow - 3 * 30);
    assert_true(totp::resync(token, first, second, kNow).ok());
    assert_int_equal(token.offset, -3);
    assert_true(token.last_step == static_cast<std::uint64_t>(kNow / 30 - 3));
    assert_false(totp::resync(token, first, second, kNow).ok());  // used now
    assert_int_equal(totp::decide(state, code(state, kNow - 2 * 30), kPolicy, kNow + 30).verdict,
                     totp::Verdict::accepted_code);
    const std::string too_far = code(state, kNow + 700);
    const std::string too_far_next = code(state, kNow + 730);
    assert_false(totp::resync(token, too_far, too_far_next, kNow).ok());
}

// A code of the secret's shape that none of the window's steps around `at` gives.
std::string wrong_code(const totp::UserState& state, std::int64_t at) {
    std::string value = code(state, at);
    do {
        value.back() = value.back() == '9' ? '0' : static_cast<char>(value.back() + 1);
    } while (value == code(state, at - 30) || value == code(state, at) ||
             value == code(state, at + 30));
    return value;
}

void assert_lines(const std::vector<totp::AttemptLine>& lines,
                  const std::vector<totp::AttemptLine>& expected) {
    assert_int_equal(lines.size(), expected.size());
    for (std::size_t i = 0; i < lines.size(); ++i) {
        assert_int_equal(lines[i].priority, expected[i].priority);
        assert_string_equal(lines[i].text.c_str(), expected[i].text.c_str());
    }
}

// Every checker of codes logs these words, and fail2ban's filter
// (packaging/fail2ban/filter.d/pam_totp.conf) matches the refusals among them.
void attempt_log_lines_say_each_verdict_in_the_words_fail2ban_matches(void**) {
    totp::Attempt attempt;
    attempt.stage = totp::Attempt::Stage::checked;
    attempt.state = make_state();
    const auto lines_for = [&](std::string_view input, std::int64_t now, bool debug) {
        attempt.decision = totp::decide(attempt.state, input, kPolicy, now);
        return totp::attempt_log_lines(attempt, kPolicy, now, debug);
    };
    const std::string right = code(attempt.state, kNow);
    assert_lines(lines_for(right, kNow, false), {{LOG_INFO, "accepted verification code"}});
    assert_lines(lines_for(right, kNow, true),
                 {{LOG_WARNING, "refused replayed verification code (time step already used)"},
                  {LOG_DEBUG, "failure recorded (1 consecutive failures)"}});
    const std::string wrong = wrong_code(attempt.state, kNow);
    assert_lines(lines_for(wrong, kNow, false), {{LOG_NOTICE, "wrong verification code"}});
    assert_lines(lines_for(wrong, kNow, false),
                 {{LOG_NOTICE, "wrong verification code"},
                  {LOG_WARNING, "locked out for 60 s (3 consecutive failures)"}});
    assert_lines(lines_for(right, kNow + 20, false),
                 {{LOG_NOTICE, "refused: locked out for another 40 s"}});
    assert_lines(lines_for("ABCD-EFGH-JKMN", kNow + 60, false),
                 {{LOG_NOTICE, "accepted recovery code (0 left)"}});
    assert_lines(lines_for(code(attempt.state, kNow + 90), kNow + 90, true),
                 {{LOG_INFO, "accepted verification code"},
                  {LOG_DEBUG, "code from authenticator 'default'"}});
}

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(attempt_log_lines_say_each_verdict_in_the_words_fail2ban_matches),
        cmocka_unit_test(current_code_is_accepted_and_recorded),
        cmocka_unit_test(same_code_twice_is_a_replay_and_a_failure),
        cmocka_unit_test(recovery_code_is_consumed),
        cmocka_unit_test(failures_lock_after_the_maximum),
        cmocka_unit_test(locked_user_is_refused_without_examining_or_changing_anything),
        cmocka_unit_test(lock_ends_at_locked_until),
        cmocka_unit_test(digit_scratch_codes_work_as_recovery_codes),
        cmocka_unit_test(failure_count_stops_at_the_state_format_limit_and_still_locks),
        cmocka_unit_test(a_code_of_any_authenticator_is_accepted_and_moves_only_its_state),
        cmocka_unit_test(hotp_accepts_codes_up_to_the_window_ahead_and_then_refuses_older_ones),
        cmocka_unit_test(totp_offset_moves_the_window_and_replay_stays_exact),
        cmocka_unit_test(
            two_codes_in_a_row_at_one_edge_nudge_the_offset_by_one_step_within_the_bound),
        cmocka_unit_test(resync_finds_two_consecutive_hotp_codes_and_sets_the_counter_past_them),
        cmocka_unit_test(resync_sets_a_totp_offset_and_marks_both_codes_used),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
