// SPDX-License-Identifier: Apache-2.0
// Secret buffers keep their contents through moves and growth, empty themselves when
// cleared or moved from, and compare in constant time.

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

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

using totp::SecretBytes;
using totp::SecretString;

namespace {

SecretBytes bytes_of(std::string_view text) {
    return SecretBytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::string text_of(const SecretBytes& bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

static void sized_secret_bytes_start_zeroed(void**) {
    const SecretBytes bytes(16);
    assert_int_equal(bytes.size(), 16);
    for (std::uint8_t b : bytes.span()) assert_int_equal(b, 0);
}

static void secret_bytes_copy_the_given_data(void**) {
    std::uint8_t source[] = {1, 2, 3, 4};
    const SecretBytes bytes(source, sizeof source);
    source[0] = 9;
    assert_int_equal(bytes.size(), 4);
    assert_int_equal(bytes.data()[0], 1);
    assert_int_equal(bytes.data()[3], 4);
}

static void moved_secret_bytes_keep_contents_and_leave_the_source_empty(void**) {
    SecretBytes source = bytes_of("top secret");
    SecretBytes moved(std::move(source));
    assert_string_equal(text_of(moved).c_str(), "top secret");
    assert_true(source.empty());

    SecretBytes assigned = bytes_of("old");
    assigned = std::move(moved);
    assert_string_equal(text_of(assigned).c_str(), "top secret");
    assert_true(moved.empty());
}

static void cloned_secret_bytes_are_independent(void**) {
    SecretBytes original = bytes_of("abc");
    SecretBytes copy = original.clone();
    copy.data()[0] = 'x';
    assert_string_equal(text_of(original).c_str(), "abc");
    assert_string_equal(text_of(copy).c_str(), "xbc");
}

static void cleared_secret_bytes_are_empty(void**) {
    SecretBytes bytes = bytes_of("abc");
    bytes.clear();
    assert_true(bytes.empty());
    assert_int_equal(bytes.size(), 0);
}

static void resized_secret_bytes_keep_the_prefix_and_zero_fill(void**) {
    SecretBytes bytes = bytes_of("abc");
    bytes.resize(100);
    assert_int_equal(bytes.size(), 100);
    assert_memory_equal(bytes.data(), "abc", 3);
    for (std::size_t i = 3; i < 100; ++i) assert_int_equal(bytes.data()[i], 0);
    bytes.resize(2);
    assert_string_equal(text_of(bytes).c_str(), "ab");
    bytes.resize(4);
    assert_memory_equal(bytes.data(), "ab\0\0", 4);
}

static void pushed_bytes_survive_growth(void**) {
    SecretBytes bytes;
    for (int i = 0; i < 300; ++i) bytes.push_back(static_cast<std::uint8_t>(i));
    assert_int_equal(bytes.size(), 300);
    for (int i = 0; i < 300; ++i) assert_int_equal(bytes.data()[i], static_cast<std::uint8_t>(i));
}

static void secret_string_holds_its_text(void**) {
    const SecretString text("hunter2");
    assert_string_equal(text.c_str(), "hunter2");
    assert_int_equal(text.size(), 7);
    assert_false(text.empty());
    assert_true(SecretString().empty());
}

static void appended_text_survives_growth(void**) {
    SecretString text;
    std::string expected;
    for (int i = 0; i < 100; ++i) {
        const std::string piece = std::to_string(i) + ",";
        text.append(piece);
        expected += piece;
    }
    assert_string_equal(text.c_str(), expected.c_str());
    assert_int_equal(text.size(), expected.size());
}

static void moved_secret_string_keeps_text_and_leaves_the_source_empty(void**) {
    SecretString source("short");  // fits the small-string buffer
    SecretString moved(std::move(source));
    assert_string_equal(moved.c_str(), "short");
    assert_true(source.empty());

    SecretString long_source(std::string(100, 'p'));
    SecretString assigned("old");
    assigned = std::move(long_source);
    assert_string_equal(assigned.c_str(), std::string(100, 'p').c_str());
    assert_true(long_source.empty());
}

static void cleared_secret_string_is_empty(void**) {
    SecretString text("hunter2");
    text.clear();
    assert_true(text.empty());
    assert_string_equal(text.c_str(), "");
}

static void wipe_zeroes_a_buffer(void**) {
    std::array<char, 8> buffer{'s', 'e', 'c', 'r', 'e', 't', '!', '!'};
    totp::wipe(buffer.data(), buffer.size());
    for (char c : buffer) assert_int_equal(c, 0);
    totp::wipe(nullptr, 0);
}

static void wiped_string_is_empty(void**) {
    std::string text = "password";
    totp::wipe(text);
    assert_true(text.empty());
}

static void equal_constant_time_compares_contents_and_lengths(void**) {
    assert_true(totp::equal_constant_time("123456", "123456"));
    assert_false(totp::equal_constant_time("123456", "123457"));
    assert_false(totp::equal_constant_time("023456", "123456"));
    assert_false(totp::equal_constant_time("12345", "123456"));
    assert_false(totp::equal_constant_time("123456", ""));
    assert_true(totp::equal_constant_time("", ""));
    assert_false(totp::equal_constant_time(std::string_view("12\0", 3), "12"));
}

static void random_bytes_differ_between_calls(void**) {
    std::array<std::uint8_t, 32> first{};
    std::array<std::uint8_t, 32> second{};
    assert_true(totp::random_bytes(first.data(), first.size()));
    assert_true(totp::random_bytes(second.data(), second.size()));
    assert_true(first != second);
    const std::array<std::uint8_t, 32> zeros{};
    assert_true(first != zeros);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sized_secret_bytes_start_zeroed),
        cmocka_unit_test(secret_bytes_copy_the_given_data),
        cmocka_unit_test(moved_secret_bytes_keep_contents_and_leave_the_source_empty),
        cmocka_unit_test(cloned_secret_bytes_are_independent),
        cmocka_unit_test(cleared_secret_bytes_are_empty),
        cmocka_unit_test(resized_secret_bytes_keep_the_prefix_and_zero_fill),
        cmocka_unit_test(pushed_bytes_survive_growth),
        cmocka_unit_test(secret_string_holds_its_text),
        cmocka_unit_test(appended_text_survives_growth),
        cmocka_unit_test(moved_secret_string_keeps_text_and_leaves_the_source_empty),
        cmocka_unit_test(cleared_secret_string_is_empty),
        cmocka_unit_test(wipe_zeroes_a_buffer),
        cmocka_unit_test(wiped_string_is_empty),
        cmocka_unit_test(equal_constant_time_compares_contents_and_lengths),
        cmocka_unit_test(random_bytes_differ_between_calls),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
