// SPDX-License-Identifier: Apache-2.0
// The one hex encoder and decoder: lowercase out, the chosen case in, nothing else accepted.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "totp/hex.hpp"
#include "totp/text.hpp"

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

constexpr std::array<std::uint8_t, 4> kBytes = {0x00, 0x9f, 0xa0, 0xff};

static void encoding_is_lowercase_two_digits_a_byte(void**) {
    assert_string_equal(totp::hex_encode(kBytes).c_str(), "009fa0ff");
    assert_string_equal(std::string(totp::hex_encode_secret(kBytes).view()).c_str(), "009fa0ff");
    assert_string_equal(totp::hex_encode({}).c_str(), "");
}

static void decoding_reads_back_what_was_encoded(void**) {
    std::array<std::uint8_t, 4> out{};
    assert_true(totp::hex_decode("009fa0ff", out, totp::HexLetters::lowercase));
    assert_memory_equal(out.data(), kBytes.data(), kBytes.size());
    const std::optional<totp::SecretBytes> secret =
        totp::hex_decode_secret("009FA0ff", totp::HexLetters::either_case);
    assert_true(secret.has_value());
    assert_int_equal(secret->size(), 4);
    assert_memory_equal(secret->data(), kBytes.data(), kBytes.size());
}

static void uppercase_is_refused_where_only_lowercase_is_read(void**) {
    std::array<std::uint8_t, 4> out{};
    assert_false(totp::hex_decode("009FA0FF", out, totp::HexLetters::lowercase));
    assert_true(totp::hex_decode("009FA0FF", out, totp::HexLetters::either_case));
}

static void anything_but_hex_digits_of_the_right_length_is_refused(void**) {
    std::array<std::uint8_t, 4> out{1, 2, 3, 4};
    for (const char* text : {"009fa0f", "009fa0ff00", "009fa0fg", "00 9fa0f", "0x9fa0ff",
                             "+09fa0ff", "-09fa0ff", "009f:0ff"}) {
        assert_false(totp::hex_decode(text, out, totp::HexLetters::either_case));
    }
    const std::array<std::uint8_t, 4> zeros{};
    assert_memory_equal(out.data(), zeros.data(), zeros.size());  // wiped on failure
    assert_false(totp::hex_decode_secret("abc", totp::HexLetters::either_case).has_value());
    assert_false(
        totp::hex_decode_secret(std::string_view("ab\0c", 4), totp::HexLetters::either_case)
            .has_value());
}

static void all_digits_is_one_or_more_ascii_digits(void**) {
    assert_true(totp::all_digits("0123456789"));
    assert_false(totp::all_digits(""));
    assert_false(totp::all_digits("12a"));
    assert_false(totp::all_digits("+12"));
    assert_false(totp::all_digits(" 12"));
    assert_false(totp::all_digits("\xd9\xa1"));  // ARABIC-INDIC DIGIT ONE
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encoding_is_lowercase_two_digits_a_byte),
        cmocka_unit_test(decoding_reads_back_what_was_encoded),
        cmocka_unit_test(uppercase_is_refused_where_only_lowercase_is_read),
        cmocka_unit_test(anything_but_hex_digits_of_the_right_length_is_refused),
        cmocka_unit_test(all_digits_is_one_or_more_ascii_digits),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
