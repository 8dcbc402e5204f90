// SPDX-License-Identifier: Apache-2.0
// The exact otpauth:// URIs that authenticator apps scan.

#include <cstdint>
#include <string>
#include <string_view>

#include "totp/otpauth_uri.hpp"
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
using totp::KeyUri;
using totp::OtpParams;

namespace {

// "12345678901234567890" (RFC 4226's key) is GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ in base32.
totp::SecretBytes rfc_key() {
    const std::string_view text = "12345678901234567890";
    return totp::SecretBytes(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::string uri_for(const KeyUri& uri) {
    return std::string(totp::build_key_uri(uri, rfc_key()).view());
}

}  // namespace

static void sha1_6_digits_30_seconds_uri_is_exact(void**) {
    const KeyUri uri{"Example", "alice", OtpParams{Algorithm::sha1, 6, 30}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/Example:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=Example&algorithm=SHA1&digits=6&period=30");
}

static void sha256_8_digits_60_seconds_uri_is_exact(void**) {
    const KeyUri uri{"example.org", "bob", OtpParams{Algorithm::sha256, 8, 60}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/example.org:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=example.org&algorithm=SHA256&digits=8&period=60");
}

static void sha512_7_digits_90_seconds_uri_is_exact(void**) {
    const KeyUri uri{"host-1", "carol_x", OtpParams{Algorithm::sha512, 7, 90}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/host-1:carol_x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=host-1&algorithm=SHA512&digits=7&period=90");
}

static void issuer_with_space_is_percent_encoded_in_label_and_parameter(void**) {
    const KeyUri uri{"ACME Co", "alice", OtpParams{}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/ACME%20Co:alice"
                        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30");
}

static void issuer_with_colon_is_left_out_of_the_label_and_kept_as_parameter(void**) {
    const KeyUri uri{"ACME Co: Ops", "alice", OtpParams{}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/alice"
                        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=ACME%20Co%3A%20Ops&algorithm=SHA1&digits=6&period=30");
}

static void account_at_sign_is_percent_encoded(void**) {
    const KeyUri uri{"Example", "alice@example.org", OtpParams{}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/Example:alice%40example.org"
                        "?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&issuer=Example&algorithm=SHA1&digits=6&period=30");
}

static void empty_issuer_gives_a_bare_label_and_no_issuer_parameter(void**) {
    const KeyUri uri{"", "alice", OtpParams{}};
    assert_string_equal(uri_for(uri).c_str(),
                        "otpauth://totp/alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
                        "&algorithm=SHA1&digits=6&period=30");
}

static void secret_is_written_without_base32_padding(void**) {
    // 16 bytes would need six '=' in padded base32.
    const std::uint8_t bytes[16] = {0};
    const KeyUri uri{"", "a", OtpParams{}};
    const totp::SecretString text =
        totp::build_key_uri(uri, totp::SecretBytes(bytes, sizeof bytes));
    assert_string_equal(text.c_str(),
                        "otpauth://totp/a?secret=AAAAAAAAAAAAAAAAAAAAAAAAAA"
                        "&algorithm=SHA1&digits=6&period=30");
}

static void percent_encode_keeps_only_unreserved_characters(void**) {
    const std::string unreserved =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    assert_string_equal(totp::percent_encode(unreserved).c_str(), unreserved.c_str());
    assert_string_equal(totp::percent_encode(":/?#[]@!$&'()*+,;=% ").c_str(),
                        "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%20");
}

static void percent_encode_writes_every_other_byte_as_uppercase_hex(void**) {
    assert_string_equal(totp::percent_encode("j\xc3\xbcrgen").c_str(), "j%C3%BCrgen");
    assert_string_equal(totp::percent_encode(std::string_view("a\0b\n\x7f\xff", 6)).c_str(),
                        "a%00b%0A%7F%FF");
    assert_string_equal(totp::percent_encode("").c_str(), "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sha1_6_digits_30_seconds_uri_is_exact),
        cmocka_unit_test(sha256_8_digits_60_seconds_uri_is_exact),
        cmocka_unit_test(sha512_7_digits_90_seconds_uri_is_exact),
        cmocka_unit_test(issuer_with_space_is_percent_encoded_in_label_and_parameter),
        cmocka_unit_test(issuer_with_colon_is_left_out_of_the_label_and_kept_as_parameter),
        cmocka_unit_test(account_at_sign_is_percent_encoded),
        cmocka_unit_test(empty_issuer_gives_a_bare_label_and_no_issuer_parameter),
        cmocka_unit_test(secret_is_written_without_base32_padding),
        cmocka_unit_test(percent_encode_keeps_only_unreserved_characters),
        cmocka_unit_test(percent_encode_writes_every_other_byte_as_uppercase_hex),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
