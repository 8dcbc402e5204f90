// SPDX-License-Identifier: Apache-2.0
// core/include/totp/account.hpp: one meaning of "not found" for users, groups and shadow
// entries. Reads the machine's own user database (root and group root exist everywhere);
// changes nothing.

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "totp/account.hpp"

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

constexpr const char* kNobodyHasThisName = "pam-totp-no-such-user-q7x";

void root_is_found_by_name_and_by_uid(void**) {
    const totp::Result<totp::Account> by_name = totp::find_account("root");
    assert_true(by_name.ok());
    assert_string_equal(by_name->name.c_str(), "root");
    assert_int_equal(by_name->uid, 0);
    const totp::Result<totp::Account> by_uid = totp::find_account(uid_t{0});
    assert_true(by_uid.ok());
    assert_string_equal(by_uid->name.c_str(), "root");
}

void an_unknown_user_is_not_found_not_an_io_error(void**) {
    const totp::Result<totp::Account> account = totp::find_account(kNobodyHasThisName);
    assert_false(account.ok());
    assert_int_equal(account.error().code, totp::Errc::not_found);
    const totp::Result<totp::Account> canonical = totp::canonical_account(kNobodyHasThisName);
    assert_int_equal(canonical.error().code, totp::Errc::not_found);
}

void an_unknown_group_is_not_found_and_membership_is_answered(void**) {
    const totp::Result<totp::Account> root = totp::find_account("root");
    assert_true(root.ok());
    const totp::Result<bool> in_root = totp::is_member(*root, "root");
    assert_true(in_root.ok());
    assert_true(*in_root);
    const totp::Result<bool> unknown = totp::is_member(*root, kNobodyHasThisName);
    assert_false(unknown.ok());
    assert_int_equal(unknown.error().code, totp::Errc::not_found);
}

// UID_MIN decides who counts as a person (enforce, password resets): the value from the
// file when it is a plain number, Debian's 1000 otherwise.
void uid_min_comes_from_login_defs_or_defaults_to_1000(void**) {
    char path[] = "/tmp/totp-login-defs-XXXXXX";
    const int fd = ::mkstemp(path);
    assert_true(fd >= 0);
    const std::string text = "# UID_MIN 10\nUID_MAX 60000\n  UID_MIN\t 2000\n";
    assert_int_equal(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    assert_int_equal(totp::read_uid_min(path), 2000);
    const std::string bad = "UID_MIN 12x\n";
    std::FILE* file = std::fopen(path, "w");
    assert_non_null(file);
    std::fputs(bad.c_str(), file);
    std::fclose(file);
    assert_int_equal(totp::read_uid_min(path), totp::kDefaultUidMin);
    ::unlink(path);
    assert_int_equal(totp::read_uid_min(path), 1000);  // no file
}

void an_unknown_shadow_entry_is_not_found(void**) {
    if (geteuid() != 0) skip();  // the shadow file is root's
    assert_true(totp::find_password_status("root").ok());
    const totp::Result<totp::PasswordStatus> unknown =
        totp::find_password_status(kNobodyHasThisName);
    assert_false(unknown.ok());
    assert_int_equal(unknown.error().code, totp::Errc::not_found);
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(root_is_found_by_name_and_by_uid),
        cmocka_unit_test(an_unknown_user_is_not_found_not_an_io_error),
        cmocka_unit_test(an_unknown_group_is_not_found_and_membership_is_answered),
        cmocka_unit_test(an_unknown_shadow_entry_is_not_found),
        cmocka_unit_test(uid_min_comes_from_login_defs_or_defaults_to_1000),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
