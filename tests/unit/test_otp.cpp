// SPDX-License-Identifier: Apache-2.0
// HOTP/TOTP against the RFC test vectors, parameter limits, and check_totp's window,
// replay and input-shape rules.

#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "totp/otp.hpp"
#include "totp/secret.hpp"

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

using totp::Algorithm;
using totp::OtpParams;
using totp::SecretBytes;
using totp::TotpCheck;

namespace {

SecretBytes key_from(std::string_view text) {
    return SecretBytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// RFC 6238 Appendix B keys: the ASCII digits repeated to the digest's block length.
const char kSha1Key[] = "12345678901234567890";
const char kSha256Key[] = "12345678901234567890123456789012";
const char kSha512Key[] = "1234567890123456789012345678901234567890123456789012345678901234";

SecretBytes rfc6238_key(Algorithm algorithm) {
    switch (algorithm) {
        case Algorithm::sha1:
            return key_from(kSha1Key);
        case Algorithm::sha256:
            return key_from(kSha256Key);
        case Algorithm::sha512:
            return key_from(kSha512Key);
    }
    return {};
}

std::string hotp_or_fail(const SecretBytes& key, std::uint64_t counter, Algorithm algorithm,
                         int digits) {
    auto code = totp::hotp(key, counter, algorithm, digits);
    assert_true(code.ok());
    return std::string(code->view());
}

struct Rfc6238Row {
    std::int64_t time;
    Algorithm algorithm;
    const char* totp8;
};

const Rfc6238Row kRfc6238[] = {
    {59, Algorithm::sha1, "94287082"},
    {59, Algorithm::sha256, "46119246"},
    {59, Algorithm::sha512, "90693936"},
    {1111111109, Algorithm::sha1, "07081804"},
    {1111111109, Algorithm::sha256, "68084774"},
    {1111111109, Algorithm::sha512, "25091201"},
    {1111111111, Algorithm::sha1, "14050471"},
    {1111111111, Algorithm::sha256, "67062674"},
    {1111111111, Algorithm::sha512, "99943326"},
    {1234567890, Algorithm::sha1, "89005924"},
    {1234567890, Algorithm::sha256, "91819424"},
    {1234567890, Algorithm::sha512, "93441116"},
    {2000000000, Algorithm::sha1, "69279037"},
    {2000000000, Algorithm::sha256, "90698825"},
    {2000000000, Algorithm::sha512, "38618901"},
    {20000000000, Algorithm::sha1, "65353130"},
    {20000000000, Algorithm::sha256, "77737706"},
    {20000000000, Algorithm::sha512, "47863826"},
};

// The code for `digits` is the last `digits` of the 8-digit value (both are the same
// 31-bit number reduced mod 10^digits).
void check_rfc6238_rows(int digits) {
    for (const Rfc6238Row& row : kRfc6238) {
        const SecretBytes key = rfc6238_key(row.algorithm);
        const std::string expected = std::string(row.totp8).substr(8 - digits);
        const std::uint64_t step = totp::time_step(row.time, 30);
        assert_string_equal(hotp_or_fail(key, step, row.algorithm, digits).c_str(),
                            expected.c_str());

        const OtpParams params{row.algorithm, digits, 30};
        const TotpCheck check = totp::check_totp(key, params, expected, row.time, 0, std::nullopt);
        assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
        assert_int_equal(check.step, step);
    }
}

// check_totp fixture: SHA1, 6 digits, 30 s, at a time in the middle of a step.
constexpr std::int64_t kNow = 1111111109;
constexpr std::uint64_t kNowStep = 1111111109 / 30;
const OtpParams kParams{Algorithm::sha1, 6, 30};

std::string code_at_step(std::uint64_t step) {
    return hotp_or_fail(key_from(kSha1Key), step, Algorithm::sha1, 6);
}

TotpCheck check_at_now(std::string_view code, int window,
                       std::optional<std::uint64_t> last_step = std::nullopt) {
    return totp::check_totp(key_from(kSha1Key), kParams, code, kNow, window, last_step);
}

}  // namespace

static void hotp_matches_every_rfc4226_appendix_d_vector(void**) {
    static const char* const kExpected[] = {"755224", "287082", "359152", "969429", "338314",
                                            "254676", "287922", "162583", "399871", "520489"};
    const SecretBytes key = key_from(kSha1Key);
    for (std::uint64_t counter = 0; counter < 10; ++counter) {
        assert_string_equal(hotp_or_fail(key, counter, Algorithm::sha1, 6).c_str(),
                            kExpected[counter]);
    }
}

static void totp_matches_every_rfc6238_appendix_b_row_with_8_digits(void**) {
    check_rfc6238_rows(8);
}

static void totp_with_6_digits_is_the_last_6_of_each_rfc6238_row(void**) {
    check_rfc6238_rows(6);
}

static void totp_with_7_digits_is_the_last_7_of_each_rfc6238_row(void**) {
    check_rfc6238_rows(7);
}

static void hotp_pads_short_values_with_leading_zeros(void**) {
    // RFC 6238 at 1111111109 with SHA1 is 07081804: the leading zero must survive.
    const std::string code = hotp_or_fail(key_from(kSha1Key), 1111111109 / 30, Algorithm::sha1, 8);
    assert_int_equal(code.size(), 8);
    assert_string_equal(code.c_str(), "07081804");
}

static void hotp_refuses_out_of_range_digits(void**) {
    const SecretBytes key = key_from(kSha1Key);
    auto five = totp::hotp(key, 0, Algorithm::sha1, 5);
    assert_false(five.ok());
    assert_int_equal(five.error().code, totp::Errc::invalid_argument);
    auto nine = totp::hotp(key, 0, Algorithm::sha1, 9);
    assert_false(nine.ok());
    assert_int_equal(nine.error().code, totp::Errc::invalid_argument);
}

static void time_step_floors_to_the_period(void**) {
    assert_int_equal(totp::time_step(0, 30), 0);
    assert_int_equal(totp::time_step(29, 30), 0);
    assert_int_equal(totp::time_step(30, 30), 1);
    assert_int_equal(totp::time_step(59, 30), 1);
    assert_int_equal(totp::time_step(60, 30), 2);
    assert_int_equal(totp::time_step(59, 60), 0);
    assert_int_equal(totp::time_step(60, 60), 1);
    assert_int_equal(totp::time_step(20000000000, 30), 666666666);
    assert_int_equal(totp::time_step(299, 300), 0);
    assert_int_equal(totp::time_step(300, 15), 20);
}

static void time_step_of_a_negative_time_is_zero(void**) {
    assert_int_equal(totp::time_step(-1, 30), 0);
    assert_int_equal(totp::time_step(-30, 30), 0);
    assert_int_equal(totp::time_step(std::numeric_limits<std::int64_t>::min(), 30), 0);
}

static void time_step_handles_the_largest_time(void**) {
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    assert_int_equal(totp::time_step(max, 15), static_cast<std::uint64_t>(max) / 15);
}

static void validate_accepts_the_limits(void**) {
    for (Algorithm algorithm : {Algorithm::sha1, Algorithm::sha256, Algorithm::sha512}) {
        for (int digits : {6, 7, 8}) {
            for (int period : {15, 30, 300}) {
                assert_true(totp::validate(OtpParams{algorithm, digits, period}).ok());
            }
        }
    }
}

static void validate_refuses_digits_outside_6_to_8(void**) {
    for (int digits : {5, 9, 0, -6}) {
        const totp::Status status = totp::validate(OtpParams{Algorithm::sha1, digits, 30});
        assert_false(status.ok());
        assert_int_equal(status.error().code, totp::Errc::invalid_argument);
    }
}

static void validate_refuses_periods_outside_15_to_300(void**) {
    for (int period : {14, 301, 0, -30}) {
        const totp::Status status = totp::validate(OtpParams{Algorithm::sha1, 6, period});
        assert_false(status.ok());
        assert_int_equal(status.error().code, totp::Errc::invalid_argument);
    }
}

static void validate_refuses_an_unknown_algorithm(void**) {
    assert_false(totp::validate(OtpParams{static_cast<Algorithm>(42), 6, 30}).ok());
}

static void algorithm_names_round_trip_case_insensitively(void**) {
    for (Algorithm algorithm : {Algorithm::sha1, Algorithm::sha256, Algorithm::sha512}) {
        const std::string name(totp::algorithm_name(algorithm));
        assert_true(totp::parse_algorithm(name) == algorithm);
        std::string lower = name;
        for (char& c : lower) {
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        }
        assert_true(totp::parse_algorithm(lower) == algorithm);
    }
    assert_string_equal(std::string(totp::algorithm_name(Algorithm::sha256)).c_str(), "SHA256");
    assert_true(totp::parse_algorithm("Sha512") == Algorithm::sha512);
}

static void parse_algorithm_refuses_unknown_names(void**) {
    for (const char* name : {"", "SHA", "SHA-1", "MD5", "SHA384", "SHA1 ", "SHA2560"}) {
        assert_false(totp::parse_algorithm(name).has_value());
    }
}

static void current_step_code_is_accepted(void**) {
    const TotpCheck check = check_at_now(code_at_step(kNowStep), 1);
    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check.step, kNowStep);
}

static void code_one_step_old_is_accepted_at_the_window_edge(void**) {
    const TotpCheck check = check_at_now(code_at_step(kNowStep - 1), 1);
    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check.step, kNowStep - 1);
}

static void code_one_step_ahead_is_accepted_at_the_window_edge(void**) {
    const TotpCheck check = check_at_now(code_at_step(kNowStep + 1), 1);
    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check.step, kNowStep + 1);
}

static void code_two_steps_old_is_a_mismatch(void**) {
    assert_int_equal(check_at_now(code_at_step(kNowStep - 2), 1).outcome,
                     TotpCheck::Outcome::mismatch);
}

static void code_two_steps_ahead_is_a_mismatch(void**) {
    assert_int_equal(check_at_now(code_at_step(kNowStep + 2), 1).outcome,
                     TotpCheck::Outcome::mismatch);
}

static void wider_window_accepts_two_steps_either_side(void**) {
    assert_int_equal(check_at_now(code_at_step(kNowStep - 2), 2).outcome,
                     TotpCheck::Outcome::accepted);
    assert_int_equal(check_at_now(code_at_step(kNowStep + 2), 2).outcome,
                     TotpCheck::Outcome::accepted);
    assert_int_equal(check_at_now(code_at_step(kNowStep + 3), 2).outcome,
                     TotpCheck::Outcome::mismatch);
}

static void window_zero_accepts_only_the_current_step(void**) {
    assert_int_equal(check_at_now(code_at_step(kNowStep), 0).outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check_at_now(code_at_step(kNowStep - 1), 0).outcome,
                     TotpCheck::Outcome::mismatch);
    assert_int_equal(check_at_now(code_at_step(kNowStep + 1), 0).outcome,
                     TotpCheck::Outcome::mismatch);
}

static void wrong_code_is_a_mismatch(void**) {
    std::string code = code_at_step(kNowStep);
    code[5] = code[5] == '9' ? '0' : static_cast<char>(code[5] + 1);
    assert_int_equal(check_at_now(code, 1).outcome, TotpCheck::Outcome::mismatch);
}

static void window_is_clamped_at_step_zero(void**) {
    const SecretBytes key = key_from(kSha1Key);
    const TotpCheck first = totp::check_totp(key, kParams, code_at_step(0), 10, 1, std::nullopt);
    assert_int_equal(first.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(first.step, 0);
    const TotpCheck next = totp::check_totp(key, kParams, code_at_step(1), 10, 1, std::nullopt);
    assert_int_equal(next.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(next.step, 1);
}

static void replayed_code_is_refused(void**) {
    const TotpCheck check = check_at_now(code_at_step(kNowStep), 1, kNowStep);
    assert_int_equal(check.outcome, TotpCheck::Outcome::replayed);
    assert_int_equal(check.step, kNowStep);
}

static void code_older_than_last_step_is_refused_as_replayed(void**) {
    const TotpCheck check = check_at_now(code_at_step(kNowStep - 1), 1, kNowStep);
    assert_int_equal(check.outcome, TotpCheck::Outcome::replayed);
    assert_int_equal(check.step, kNowStep - 1);
}

static void code_after_an_accepted_future_step_is_refused(void**) {
    // A code from step now+1 was used; the current step's code must not work afterwards.
    const TotpCheck check = check_at_now(code_at_step(kNowStep), 1, kNowStep + 1);
    assert_int_equal(check.outcome, TotpCheck::Outcome::replayed);
}

static void code_for_the_step_after_last_step_is_accepted(void**) {
    const TotpCheck check = check_at_now(code_at_step(kNowStep), 1, kNowStep - 1);
    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check.step, kNowStep);
}

static void last_step_zero_refuses_step_zero(void**) {
    const SecretBytes key = key_from(kSha1Key);
    const TotpCheck check = totp::check_totp(key, kParams, code_at_step(0), 10, 1, 0);
    assert_int_equal(check.outcome, TotpCheck::Outcome::replayed);
}

// With this key, steps 37079356 and 37079357 share the 6-digit code 186519.
constexpr std::uint64_t kCollidingStep = 37079356;
constexpr const char* kCollidingCode = "186519";

static void fixture_steps_really_collide(void**) {
    assert_string_equal(code_at_step(kCollidingStep).c_str(), kCollidingCode);
    assert_string_equal(code_at_step(kCollidingStep + 1).c_str(), kCollidingCode);
}

static void code_matching_a_replayed_and_a_fresh_step_is_accepted(void**) {
    const std::int64_t now = static_cast<std::int64_t>(kCollidingStep + 1) * 30;
    const TotpCheck check =
        totp::check_totp(key_from(kSha1Key), kParams, kCollidingCode, now, 1, kCollidingStep);
    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check.step, kCollidingStep + 1);
}

static void code_matching_two_fresh_steps_consumes_the_later(void**) {
    // Recording the later step as last_step makes the code unusable at either step.
    const std::int64_t now = static_cast<std::int64_t>(kCollidingStep) * 30;
    const TotpCheck check =
        totp::check_totp(key_from(kSha1Key), kParams, kCollidingCode, now, 1, std::nullopt);
    assert_int_equal(check.outcome, TotpCheck::Outcome::accepted);
    assert_int_equal(check.step, kCollidingStep + 1);
}

static void malformed_codes_are_reported_as_malformed(void**) {
    const std::string good = code_at_step(kNowStep);
    const std::string with_nul = good.substr(0, 3) + std::string(1, '\0') + good.substr(4);
    const std::string_view inputs[] = {
        "",       good.substr(0, 5), good + "0",     good + std::string(1, '\0'),
        with_nul, "12a456",          "12 456",       " 123456",
        "+12345", "-12345",          "１２３４５６",
    };
    for (std::string_view input : inputs) {
        assert_int_equal(check_at_now(input, 1).outcome, TotpCheck::Outcome::malformed);
    }
}

static void code_of_the_wrong_length_for_the_params_is_malformed(void**) {
    // A valid 6-digit code is malformed when the user is enrolled with 8 digits.
    const OtpParams eight{Algorithm::sha1, 8, 30};
    const TotpCheck check =
        totp::check_totp(key_from(kSha1Key), eight, code_at_step(kNowStep), kNow, 1, std::nullopt);
    assert_int_equal(check.outcome, TotpCheck::Outcome::malformed);
}

static void invalid_params_never_accept(void**) {
    const OtpParams bad_period{Algorithm::sha1, 6, 10};
    const std::int64_t now = 1111111109;
    const std::string code =
        hotp_or_fail(key_from(kSha1Key), totp::time_step(now, 10), Algorithm::sha1, 6);
    const TotpCheck check =
        totp::check_totp(key_from(kSha1Key), bad_period, code, now, 1, std::nullopt);
    assert_int_equal(check.outcome, TotpCheck::Outcome::mismatch);
}

// same_hmac_key answers exactly when two keys give the same codes: zero bytes up to the
// block (64 for SHA-1 and SHA-256, 128 for SHA-512) do not change HMAC's key; anything past
// the block makes a long key that HMAC hashes.
static void same_hmac_key_follows_hmacs_padding_to_the_block(void**) {
    for (const auto& [algorithm, block] :
         {std::pair{Algorithm::sha1, 64}, {Algorithm::sha256, 64}, {Algorithm::sha512, 128}}) {
        const SecretBytes key = key_from(kSha1Key);
        SecretBytes padded = key.clone();
        while (padded.size() < static_cast<std::size_t>(block)) padded.push_back(0);
        assert_true(totp::same_hmac_key(algorithm, key, padded));
        assert_string_equal(hotp_or_fail(key, 3, algorithm, 8).c_str(),
                            hotp_or_fail(padded, 3, algorithm, 8).c_str());
        padded.push_back(0);  // one past the block: hashed, another key
        assert_false(totp::same_hmac_key(algorithm, key, padded));
        SecretBytes changed = key.clone();
        changed.data()[0] ^= 1;
        assert_false(totp::same_hmac_key(algorithm, key, changed));
        assert_true(totp::same_hmac_key(algorithm, key, key));
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hotp_matches_every_rfc4226_appendix_d_vector),
        cmocka_unit_test(same_hmac_key_follows_hmacs_padding_to_the_block),
        cmocka_unit_test(totp_matches_every_rfc6238_appendix_b_row_with_8_digits),
        cmocka_unit_test(totp_with_6_digits_is_the_last_6_of_each_rfc6238_row),
        cmocka_unit_test(totp_with_7_digits_is_the_last_7_of_each_rfc6238_row),
        cmocka_unit_test(hotp_pads_short_values_with_leading_zeros),
        cmocka_unit_test(hotp_refuses_out_of_range_digits),
        cmocka_unit_test(time_step_floors_to_the_period),
        cmocka_unit_test(time_step_of_a_negative_time_is_zero),
        cmocka_unit_test(time_step_handles_the_largest_time),
        cmocka_unit_test(validate_accepts_the_limits),
        cmocka_unit_test(validate_refuses_digits_outside_6_to_8),
        cmocka_unit_test(validate_refuses_periods_outside_15_to_300),
        cmocka_unit_test(validate_refuses_an_unknown_algorithm),
        cmocka_unit_test(algorithm_names_round_trip_case_insensitively),
        cmocka_unit_test(parse_algorithm_refuses_unknown_names),
        cmocka_unit_test(current_step_code_is_accepted),
        cmocka_unit_test(code_one_step_old_is_accepted_at_the_window_edge),
        cmocka_unit_test(code_one_step_ahead_is_accepted_at_the_window_edge),
        cmocka_unit_test(code_two_steps_old_is_a_mismatch),
        cmocka_unit_test(code_two_steps_ahead_is_a_mismatch),
        cmocka_unit_test(wider_window_accepts_two_steps_either_side),
        cmocka_unit_test(window_zero_accepts_only_the_current_step),
        cmocka_unit_test(wrong_code_is_a_mismatch),
        cmocka_unit_test(window_is_clamped_at_step_zero),
        cmocka_unit_test(replayed_code_is_refused),
        cmocka_unit_test(code_older_than_last_step_is_refused_as_replayed),
        cmocka_unit_test(code_after_an_accepted_future_step_is_refused),
        cmocka_unit_test(code_for_the_step_after_last_step_is_accepted),
        cmocka_unit_test(last_step_zero_refuses_step_zero),
        cmocka_unit_test(fixture_steps_really_collide),
        cmocka_unit_test(code_matching_a_replayed_and_a_fresh_step_is_accepted),
        cmocka_unit_test(code_matching_two_fresh_steps_consumes_the_later),
        cmocka_unit_test(malformed_codes_are_reported_as_malformed),
        cmocka_unit_test(code_of_the_wrong_length_for_the_params_is_malformed),
        cmocka_unit_test(invalid_params_never_accept),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
