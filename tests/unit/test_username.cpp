// SPDX-License-Identifier: Apache-2.0
// User names that could escape or confuse a per-user state path are refused.

#include <string>
#include <string_view>

#include "totp/username.hpp"

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

void assert_refused(std::string_view user) {
    const totp::Status status = totp::check_username(user);
    assert_false(status.ok());
    assert_int_equal(status.error().code, totp::Errc::unsafe);
    assert_false(status.error().message.empty());
}

}  // namespace

static void ordinary_names_are_accepted(void**) {
    for (const char* user : {"alice", "a", "root", "alice.smith", "user-1", "john_doe",
                             "alice@example.org", "DOMAIN\\bob", "j\xc3\xbcrgen", "a.", "1000"}) {
        assert_true(totp::check_username(user).ok());
    }
}

static void name_of_256_bytes_is_accepted(void**) {
    assert_true(totp::check_username(std::string(256, 'a')).ok());
}

static void name_of_257_bytes_is_refused(void**) {
    assert_refused(std::string(257, 'a'));
}

static void empty_name_is_refused(void**) {
    assert_refused("");
}

static void name_with_a_slash_is_refused(void**) {
    assert_refused("a/b");
    assert_refused("/");
    assert_refused("alice/");
    assert_refused("/etc/shadow");
}

static void name_with_a_leading_dot_is_refused(void**) {
    assert_refused(".");
    assert_refused("..");
    assert_refused(".hidden");
}

static void name_with_a_control_character_is_refused(void**) {
    assert_refused("alice\n");
    assert_refused("a\nb");
    assert_refused("a\tb");
    assert_refused("a\rb");
    assert_refused(
        "\x01"
        "alice");
    assert_refused("alice\x1f");
    assert_refused("alice\x7f");
    assert_refused(std::string_view("a\0b", 3));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ordinary_names_are_accepted),
        cmocka_unit_test(name_of_256_bytes_is_accepted),
        cmocka_unit_test(name_of_257_bytes_is_refused),
        cmocka_unit_test(empty_name_is_refused),
        cmocka_unit_test(name_with_a_slash_is_refused),
        cmocka_unit_test(name_with_a_leading_dot_is_refused),
        cmocka_unit_test(name_with_a_control_character_is_refused),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
