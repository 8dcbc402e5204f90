// SPDX-License-Identifier: Apache-2.0
// The strict parsers of the migration formats: ~/.google_authenticator and pam_oath
// users files.
#include <cstring>
#include <string>

#include "import_formats.hpp"
#include "totp/base32.hpp"

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

using totp_enroll::parse_google_authenticator;
using totp_enroll::parse_oath_usersfile;

constexpr const char* kSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

std::string base32(const totp::SecretBytes& bytes) {
    return std::string(totp::base32_encode(bytes.span()).view());
}

void totp_file_with_every_option_parses(void**) {
    const std::string text = std::string(kSecret) +
                             "\n\" RATE_LIMIT 3 30 1700000000\n\" WINDOW_SIZE 17\n"
                             "\" DISALLOW_REUSE 56666666 56666667\n\" TOTP_AUTH\n"
                             "\" STEP_SIZE 60\n12345678\n87654321\n";
    auto file = parse_google_authenticator(text);
    assert_true(file.ok());
    assert_string_equal(base32(file->secret).c_str(), kSecret);
    assert_int_equal(file->step_size, 60);
    assert_int_equal(*file->window_size, 17);
    assert_true(file->rate_limit);
    assert_true(file->disallow_reuse);
    assert_int_equal(*file->last_used_step, 56666667);
    assert_int_equal(file->scratch_codes.size(), 2);
    assert_string_equal(file->scratch_codes[1].c_str(), "87654321");
}

void minimal_file_defaults_to_30_seconds(void**) {
    auto file = parse_google_authenticator(std::string(kSecret) + "\n");
    assert_true(file.ok());
    assert_int_equal(file->step_size, 30);
    assert_false(file->window_size.has_value());
    assert_true(file->scratch_codes.empty());
}

void crlf_line_endings_are_accepted(void**) {
    auto file =
        parse_google_authenticator(std::string(kSecret) + "\r\n\" TOTP_AUTH\r\n11112222\r\n");
    assert_true(file.ok());
    assert_int_equal(file->scratch_codes.size(), 1);
}

void hotp_file_is_unsupported(void**) {
    auto file = parse_google_authenticator(std::string(kSecret) + "\n\" HOTP_COUNTER 1\n");
    assert_false(file.ok());
    assert_int_equal(static_cast<int>(file.error().code),
                     static_cast<int>(totp::Errc::unsupported));
    assert_non_null(std::strstr(file.error().message.c_str(), "HOTP"));
}

void step_size_outside_15_to_300_is_unsupported(void**) {
    auto file = parse_google_authenticator(std::string(kSecret) + "\n\" STEP_SIZE 10\n");
    assert_false(file.ok());
    assert_int_equal(static_cast<int>(file.error().code),
                     static_cast<int>(totp::Errc::unsupported));
}

void malformed_files_are_refused_without_echoing_secrets(void**) {
    const char* bad[] = {
        "",
        "\n",
        "NOT!BASE32\n",
        "JBSWY3DP\n",                                   // 5 bytes: too short
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n1234567\n",  // 7-digit scratch code
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" FROBNICATE\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" STEP_SIZE x\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" WINDOW_SIZE\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" TOTP_AUTH yes\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\n\" DISALLOW_REUSE 12a\n",
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP\nsecret words\n",
    };
    for (const char* text : bad) {
        auto file = parse_google_authenticator(text);
        if (file.ok()) fail_msg("accepted: %s", text);
        assert_null(std::strstr(file.error().message.c_str(), "JBSWY3DP"));
        assert_null(std::strstr(file.error().message.c_str(), "1234567"));
    }
}

void more_than_twenty_scratch_codes_are_refused(void**) {
    std::string text = std::string(kSecret) + "\n";
    for (int i = 0; i < 21; ++i) text += std::to_string(10000000 + i) + "\n";
    assert_false(parse_google_authenticator(text).ok());
}

void oversized_file_is_refused(void**) {
    std::string text = std::string(kSecret) + "\n" + std::string(20000, '\n');
    assert_false(parse_google_authenticator(text).ok());
}

void oath_time_based_lines_parse(void**) {
    auto entries = parse_oath_usersfile(
        "# comment\n\n"
        "HOTP/T30 alice - 3132333435363738393031323334353637383930\n"
        "HOTP/T60/8\tbob\t1234\t00112233445566778899AABBCCDDEEFF00112233 12 123456 "
        "2024-01-01T00:00:00L\n"
        "HOTP/T30/7 carol + 00112233445566778899\n");
    assert_int_equal(entries.size(), 3);
    assert_true(entries[0].skipped.empty());
    assert_string_equal(entries[0].user.c_str(), "alice");
    assert_int_equal(entries[0].line, 3);
    assert_int_equal(entries[0].params.period, 30);
    assert_int_equal(entries[0].params.digits, 6);
    assert_int_equal(entries[0].secret.size(), 20);
    assert_int_equal(entries[0].secret.data()[0], 0x31);
    assert_false(entries[0].has_pin);
    assert_true(entries[1].skipped.empty());
    assert_int_equal(entries[1].params.period, 60);
    assert_int_equal(entries[1].params.digits, 8);
    assert_int_equal(entries[1].secret.data()[10], 0xaa);
    assert_true(entries[1].has_pin);
    assert_true(entries[2].skipped.empty());
    assert_int_equal(entries[2].params.digits, 7);
    assert_int_equal(entries[2].secret.size(), 10);
}

void oath_lines_that_cannot_be_imported_say_why(void**) {
    struct Case {
        const char* line;
        const char* reason;
    };
    const Case cases[] = {
        {"HOTP alice - 00112233445566778899", "counter-based HOTP"},
        {"HOTP/E/8 alice - 00112233445566778899", "counter-based HOTP"},
        {"TOTP alice - 00112233445566778899", "unknown token type"},
        {"HOTP/T10 alice - 00112233445566778899", "outside the supported"},
        {"HOTP/T30/9 alice - 00112233445566778899", "digits"},
        {"HOTP/T30 alice - 0011223344556677889", "hex"},
        {"HOTP/T30 alice - 00112233445566778g", "hex"},
        {"HOTP/T30 alice - 0011", "bytes"},
        {"HOTP/T30 alice -", "malformed"},
        {"HOTP/T30 alice - 00112233445566778899 x", "counter"},
        {"HOTP/T30 alice - 00112233445566778899 1 2 3 4", "too many"},
    };
    for (const Case& c : cases) {
        auto entries = parse_oath_usersfile(c.line);
        assert_int_equal(entries.size(), 1);
        if (std::strstr(entries[0].skipped.c_str(), c.reason) == nullptr) {
            fail_msg("'%s': reason '%s', expected '%s'", c.line, entries[0].skipped.c_str(),
                     c.reason);
        }
        assert_string_equal(entries[0].user.c_str(), "alice");
        assert_null(std::strstr(entries[0].skipped.c_str(), "0011"));
    }
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
        cmocka_unit_test(totp_file_with_every_option_parses),
        cmocka_unit_test(minimal_file_defaults_to_30_seconds),
        cmocka_unit_test(crlf_line_endings_are_accepted),
        cmocka_unit_test(hotp_file_is_unsupported),
        cmocka_unit_test(step_size_outside_15_to_300_is_unsupported),
        cmocka_unit_test(malformed_files_are_refused_without_echoing_secrets),
        cmocka_unit_test(more_than_twenty_scratch_codes_are_refused),
        cmocka_unit_test(oversized_file_is_refused),
        cmocka_unit_test(oath_time_based_lines_parse),
        cmocka_unit_test(oath_lines_that_cannot_be_imported_say_why),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
