// SPDX-License-Identifier: Apache-2.0
// core/include/totp/text.hpp: the one control-character check and the one log sanitizer.

#include <string>

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

void control_characters_and_del_are_found(void**) {
    assert_false(totp::has_control("alice smith ~!"));
    assert_true(totp::has_control(std::string("a\0b", 3)));
    assert_true(totp::has_control("a\tb"));
    assert_true(totp::has_control("line\r\nforged"));
    assert_true(totp::has_control("\x1b[31m"));
    assert_true(totp::has_control("del\x7f"));
}

void utf8_is_not_a_control_character(void**) {
    assert_false(totp::has_control("J\xc3\xbcrgen"));
}

void printable_ascii_is_kept_as_it_is(void**) {
    const std::string all = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~";
    assert_string_equal(totp::printable(all, 200).c_str(), all.c_str());
}

void every_other_byte_becomes_a_question_mark(void**) {
    assert_string_equal(totp::printable("a\r\nb\x1b[1m\x7f").c_str(), "a??b?[1m?");
    // 8-bit CSI, a right-to-left override (U+202E) and a UTF-8 letter alike.
    assert_string_equal(totp::printable("x\x9b"
                                        "1my\xe2\x80\xae"
                                        "z\xc3\xbc")
                            .c_str(),
                        "x?1my???z??");
    assert_string_equal(totp::printable(std::string("n\0l", 3)).c_str(), "n?l");
}

void long_text_is_cut_and_marked(void**) {
    assert_string_equal(totp::printable("abcdef", 4).c_str(), "abcd...");
    assert_string_equal(totp::printable("abcd", 4).c_str(), "abcd");
    assert_int_equal(totp::printable(std::string(1000, 'a')).size(), 64 + 3);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(control_characters_and_del_are_found),
        cmocka_unit_test(utf8_is_not_a_control_character),
        cmocka_unit_test(printable_ascii_is_kept_as_it_is),
        cmocka_unit_test(every_other_byte_becomes_a_question_mark),
        cmocka_unit_test(long_text_is_cut_and_marked),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
