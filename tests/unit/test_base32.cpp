// SPDX-License-Identifier: Apache-2.0
// Base32 against RFC 4648 section 10, plus the leniency and the refusals we promise.

#include <cstdint>
#include <string>
#include <string_view>

#include "totp/base32.hpp"
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

namespace {

struct Vector {
    const char* plain;
    const char* padded;    // as printed in RFC 4648 section 10
    const char* unpadded;  // what base32_encode writes
};

const Vector kRfc4648[] = {
    {"f", "MY======", "MY"},           {"fo", "MZXQ====", "MZXQ"},
    {"foo", "MZXW6===", "MZXW6"},      {"foob", "MZXW6YQ=", "MZXW6YQ"},
    {"fooba", "MZXW6YTB", "MZXW6YTB"}, {"foobar", "MZXW6YTBOI======", "MZXW6YTBOI"},
};

std::string as_text(const totp::SecretBytes& bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string decode_or_fail(std::string_view text) {
    auto decoded = totp::base32_decode(text);
    assert_true(decoded.ok());
    return as_text(*decoded);
}

std::string encode(std::string_view plain) {
    return std::string(
        totp::base32_encode({reinterpret_cast<const std::uint8_t*>(plain.data()), plain.size()})
            .view());
}

// The refusal is invalid_argument and its message does not echo the input: `secret_part`
// is a run of the input long enough that finding it would mean the input leaked.
void assert_refused(std::string_view text, std::string_view secret_part) {
    auto decoded = totp::base32_decode(text);
    assert_false(decoded.ok());
    assert_int_equal(decoded.error().code, totp::Errc::invalid_argument);
    assert_false(decoded.error().message.empty());
    if (!secret_part.empty()) {
        assert_true(decoded.error().message.find(secret_part) == std::string::npos);
    }
}

}  // namespace

static void encode_matches_rfc4648_vectors_without_padding(void**) {
    assert_string_equal(encode("").c_str(), "");
    for (const Vector& v : kRfc4648) assert_string_equal(encode(v.plain).c_str(), v.unpadded);
}

static void decode_matches_rfc4648_padded_vectors(void**) {
    for (const Vector& v : kRfc4648) assert_string_equal(decode_or_fail(v.padded).c_str(), v.plain);
}

static void decode_accepts_missing_padding(void**) {
    for (const Vector& v : kRfc4648) {
        assert_string_equal(decode_or_fail(v.unpadded).c_str(), v.plain);
    }
}

static void decode_is_case_insensitive(void**) {
    assert_string_equal(decode_or_fail("mzxw6ytboi").c_str(), "foobar");
    assert_string_equal(decode_or_fail("mZxW6yTbOi======").c_str(), "foobar");
}

static void decode_ignores_spaces_and_hyphens(void**) {
    assert_string_equal(decode_or_fail("MZXW 6YTB-OI").c_str(), "foobar");
    assert_string_equal(decode_or_fail(" mzxw-6ytb oi ").c_str(), "foobar");
}

static void decode_round_trips_every_length(void**) {
    std::string plain;
    for (int length = 1; length <= 40; ++length) {
        plain.push_back(static_cast<char>(length * 37 + 11));
        assert_true(decode_or_fail(encode(plain)) == plain);
    }
}

static void decode_refuses_characters_outside_the_alphabet(void**) {
    assert_refused("JBSWY3DP1HPK3PXP", "JBSWY3DP");
    assert_refused("JBSWY3DP0HPK3PXP", "JBSWY3DP");
    assert_refused("JBSWY3DP8HPK3PXP", "JBSWY3DP");
    assert_refused("JBSWY3DP@HPK3PXP", "JBSWY3DP");
    assert_refused("JBSWY3DP\nHPK3PXP", "JBSWY3DP");
    assert_refused("JBSWY3DP_HPK3PXP", "JBSWY3DP");
}

static void decode_refuses_data_after_padding(void**) {
    assert_refused("JBSWY3DPEHPK3PXPMY======MY", "JBSWY3DP");
    assert_refused("JBSWY3DPEHPK3PXPMZXQ==MZ==", "JBSWY3DP");
}

static void decode_refuses_the_wrong_amount_of_padding(void**) {
    assert_refused("JBSWY3DPEHPK3PXPMY=====", "JBSWY3DP");    // 5 instead of 6
    assert_refused("JBSWY3DPEHPK3PXPMY=======", "JBSWY3DP");  // 7 instead of 6
    assert_refused("JBSWY3DPEHPK3PXPMZXW6YQ==", "JBSWY3DP");  // 2 instead of 1
    assert_refused("JBSWY3DPEHPK3PXPMZXW6YTB=", "JBSWY3DP");  // a full block needs none
}

static void decode_refuses_truncated_lengths(void**) {
    assert_refused("JBSWY3DPEHPK3PXPM", "JBSWY3DP");       // 1 symbol tail
    assert_refused("JBSWY3DPEHPK3PXPMZX", "JBSWY3DP");     // 3 symbols tail
    assert_refused("JBSWY3DPEHPK3PXPMZXW6Y", "JBSWY3DP");  // 6 symbols tail
    assert_refused("M", "");
    assert_refused("MZX", "");
    assert_refused("MZXW6Y", "");
}

static void decode_refuses_empty_input(void**) {
    assert_refused("", "");
    assert_refused("   ", "");
    assert_refused("- -", "");
    assert_refused("========", "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode_matches_rfc4648_vectors_without_padding),
        cmocka_unit_test(decode_matches_rfc4648_padded_vectors),
        cmocka_unit_test(decode_accepts_missing_padding),
        cmocka_unit_test(decode_is_case_insensitive),
        cmocka_unit_test(decode_ignores_spaces_and_hyphens),
        cmocka_unit_test(decode_round_trips_every_length),
        cmocka_unit_test(decode_refuses_characters_outside_the_alphabet),
        cmocka_unit_test(decode_refuses_data_after_padding),
        cmocka_unit_test(decode_refuses_the_wrong_amount_of_padding),
        cmocka_unit_test(decode_refuses_truncated_lengths),
        cmocka_unit_test(decode_refuses_empty_input),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
