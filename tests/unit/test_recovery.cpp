// SPDX-License-Identifier: Apache-2.0
// Recovery codes: generation format and randomness, normalization, salted hashes, and the
// state-file text form.

#include <array>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "totp/recovery.hpp"

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

using totp::RecoveryHash;

namespace {

constexpr std::string_view kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::vector<std::string> generate_or_fail(int count) {
    auto codes = totp::generate_recovery_codes(count);
    assert_true(codes.ok());
    assert_int_equal(codes->size(), count);
    std::vector<std::string> out;
    for (const totp::SecretString& code : *codes) out.emplace_back(code.view());
    return out;
}

std::string normalize_or_fail(std::string_view typed) {
    auto normalized = totp::normalize_recovery_code(typed);
    assert_true(normalized.has_value());
    return std::string(normalized->view());
}

RecoveryHash hash_or_fail(std::string_view normalized) {
    auto hash = totp::hash_recovery_code(normalized);
    assert_true(hash.ok());
    return *hash;
}

}  // namespace

static void generated_codes_have_the_xxxx_xxxx_xxxx_format(void**) {
    for (const std::string& code : generate_or_fail(20)) {
        assert_int_equal(code.size(), 14);
        for (std::size_t i = 0; i < code.size(); ++i) {
            if (i == 4 || i == 9) {
                assert_int_equal(code[i], '-');
            } else {
                assert_true(kAlphabet.find(code[i]) != std::string_view::npos);
            }
        }
    }
}

static void generated_codes_are_distinct(void**) {
    std::set<std::string> seen;
    for (int batch = 0; batch < 5; ++batch) {
        for (const std::string& code : generate_or_fail(20)) {
            assert_true(seen.insert(code).second);
        }
    }
}

static void generated_symbols_cover_the_alphabet_evenly(void**) {
    // 12,000 symbols: each of the 32 is expected 375 times (standard deviation about 19).
    // A biased or shrunken selection (e.g. modulo 31) falls far outside 250..500.
    std::map<char, int> counts;
    for (int batch = 0; batch < 50; ++batch) {
        for (const std::string& code : generate_or_fail(20)) {
            for (char c : code) {
                if (c != '-') ++counts[c];
            }
        }
    }
    assert_int_equal(counts.size(), kAlphabet.size());
    for (char c : kAlphabet) {
        assert_in_range(counts[c], 250, 500);
    }
}

static void generate_refuses_counts_outside_1_to_20(void**) {
    for (int count : {0, -1, 21}) {
        auto codes = totp::generate_recovery_codes(count);
        assert_false(codes.ok());
        assert_int_equal(codes.error().code, totp::Errc::invalid_argument);
    }
    assert_true(totp::generate_recovery_codes(1).ok());
}

static void normalize_drops_separators_and_upper_cases(void**) {
    assert_string_equal(normalize_or_fail("ABCD-EFGH-JKMN").c_str(), "ABCDEFGHJKMN");
    assert_string_equal(normalize_or_fail("abcd-efgh-jkmn").c_str(), "ABCDEFGHJKMN");
    assert_string_equal(normalize_or_fail("abcd efgh jkmn").c_str(), "ABCDEFGHJKMN");
    assert_string_equal(normalize_or_fail(" AbCd--EfGhJkMn ").c_str(), "ABCDEFGHJKMN");
}

static void normalize_reads_o_as_zero_and_i_l_as_one(void**) {
    assert_string_equal(normalize_or_fail("OoIiLl").c_str(), "001111");
    assert_string_equal(normalize_or_fail("ab0o-1il-XYZU").c_str(), "AB00111XYZU");
}

static void normalize_accepts_digit_only_scratch_codes(void**) {
    assert_string_equal(normalize_or_fail("12345678").c_str(), "12345678");
}

static void normalize_enforces_6_to_32_characters(void**) {
    assert_false(totp::normalize_recovery_code("").has_value());
    assert_false(totp::normalize_recovery_code("- - -").has_value());
    assert_false(totp::normalize_recovery_code("ABCDE").has_value());
    assert_false(totp::normalize_recovery_code("AB-CD-E").has_value());
    assert_true(totp::normalize_recovery_code("ABCDEF").has_value());
    assert_true(totp::normalize_recovery_code(std::string(32, 'A')).has_value());
    assert_false(totp::normalize_recovery_code(std::string(33, 'A')).has_value());
}

static void normalize_refuses_other_characters(void**) {
    for (std::string_view typed : {std::string_view("ABCD_EFGH"), std::string_view("ABCD.EFGH"),
                                   std::string_view("ABCD\tEFGH"), std::string_view("ABCD\nEFGH"),
                                   std::string_view("ABCD\0EFGH", 9),
                                   std::string_view("ABCD\xc3\x89"
                                                    "FGH"),
                                   std::string_view("ABCDEFGH!")}) {
        assert_false(totp::normalize_recovery_code(typed).has_value());
    }
}

static void generated_code_is_found_after_hashing(void**) {
    const std::vector<std::string> codes = generate_or_fail(5);
    std::vector<RecoveryHash> stored;
    for (const std::string& code : codes) stored.push_back(hash_or_fail(normalize_or_fail(code)));
    for (std::size_t i = 0; i < codes.size(); ++i) {
        const auto found = totp::find_recovery_code(stored, normalize_or_fail(codes[i]));
        assert_true(found.has_value());
        assert_int_equal(*found, i);
    }
}

static void lowercase_code_without_hyphens_is_found(void**) {
    const std::vector<std::string> codes = generate_or_fail(3);
    std::vector<RecoveryHash> stored;
    for (const std::string& code : codes) stored.push_back(hash_or_fail(normalize_or_fail(code)));
    std::string typed;
    for (char c : codes[2]) {
        if (c == '-') continue;
        typed.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    const auto found = totp::find_recovery_code(stored, normalize_or_fail(typed));
    assert_true(found.has_value());
    assert_int_equal(*found, 2);
}

static void code_typed_with_letters_for_digits_is_found(void**) {
    const std::vector<RecoveryHash> stored = {hash_or_fail("ABCD0011EFGH"),
                                              hash_or_fail("0011ABCDEFGH")};
    const auto found = totp::find_recovery_code(stored, normalize_or_fail("oOiL-abcd-efgh"));
    assert_true(found.has_value());
    assert_int_equal(*found, 1);
}

static void wrong_code_is_not_found(void**) {
    const std::vector<RecoveryHash> stored = {hash_or_fail("ABCDEFGHJKMN"),
                                              hash_or_fail("PQRSTVWXYZ01")};
    assert_false(totp::find_recovery_code(stored, "ABCDEFGHJKMP").has_value());
    assert_false(totp::find_recovery_code(stored, "ABCDEFGHJKM").has_value());
    assert_false(totp::find_recovery_code(stored, "ABCDEFGHJKMNP").has_value());
    assert_false(totp::find_recovery_code({}, "ABCDEFGHJKMN").has_value());
}

static void hash_is_sha256_of_salt_then_code(void**) {
    // SHA-256(16 zero bytes || "ABCDEFGHJKMN"), computed independently.
    const auto known = totp::parse_recovery_hash(
        "00000000000000000000000000000000:"
        "03fe73e10e1018ee69948d1b84df00312b70939a0fb02c5b3d0e1cd2cde2e25c");
    assert_true(known.has_value());
    const auto found = totp::find_recovery_code({*known}, "ABCDEFGHJKMN");
    assert_true(found.has_value());
    assert_int_equal(*found, 0);
}

static void same_code_hashes_with_a_different_salt_each_time(void**) {
    const RecoveryHash first = hash_or_fail("ABCDEFGHJKMN");
    const RecoveryHash second = hash_or_fail("ABCDEFGHJKMN");
    assert_true(first.salt != second.salt);
    assert_true(first.digest != second.digest);
    assert_true(totp::find_recovery_code({first}, "ABCDEFGHJKMN").has_value());
    assert_true(totp::find_recovery_code({second}, "ABCDEFGHJKMN").has_value());
}

static void hash_refuses_a_code_that_is_not_normalized(void**) {
    for (std::string_view code : {"abcdefghjkmn", "ABCD-EFGH-JKMN", "ABCDE", "ABCDEFGHJKMO"}) {
        auto hash = totp::hash_recovery_code(code);
        assert_false(hash.ok());
        assert_int_equal(hash.error().code, totp::Errc::invalid_argument);
    }
}

static void formatted_hash_is_lowercase_hex_salt_colon_digest(void**) {
    RecoveryHash hash;
    for (std::size_t i = 0; i < hash.salt.size(); ++i) hash.salt[i] = static_cast<std::uint8_t>(i);
    hash.digest.fill(0xab);
    hash.digest[31] = 0x0f;
    assert_string_equal(totp::format_recovery_hash(hash).c_str(),
                        "000102030405060708090a0b0c0d0e0f:"
                        "ababababababababababababababababababababababababababababababab0f");
}

static void formatted_hash_parses_back_to_the_same_hash(void**) {
    const RecoveryHash hash = hash_or_fail("ABCDEFGHJKMN");
    const auto parsed = totp::parse_recovery_hash(totp::format_recovery_hash(hash));
    assert_true(parsed.has_value());
    assert_true(*parsed == hash);
}

static void parse_refuses_malformed_text(void**) {
    const std::string good =
        "000102030405060708090a0b0c0d0e0f:"
        "ababababababababababababababababababababababababababababababab0f";
    assert_true(totp::parse_recovery_hash(good).has_value());

    std::string upper = good;
    upper[20] = 'A';
    std::string no_colon = good;
    no_colon[32] = '0';
    std::string non_hex = good;
    non_hex[40] = 'g';
    std::string moved_colon = good;
    std::swap(moved_colon[31], moved_colon[32]);
    const std::string inputs[] = {
        "",
        ":",
        upper,
        no_colon,
        non_hex,
        moved_colon,
        good + "\n",
        good + "0",
        " " + good,
        good.substr(0, good.size() - 1),
        good.substr(1),
        good.substr(0, 32),
        good.substr(0, 31) + good.substr(32) + "0",
        good.substr(0, 12) + " " + good.substr(13),
        good.substr(0, 33) + "-" + good.substr(34),
    };
    for (const std::string& input : inputs) {
        assert_false(totp::parse_recovery_hash(input).has_value());
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generated_codes_have_the_xxxx_xxxx_xxxx_format),
        cmocka_unit_test(generated_codes_are_distinct),
        cmocka_unit_test(generated_symbols_cover_the_alphabet_evenly),
        cmocka_unit_test(generate_refuses_counts_outside_1_to_20),
        cmocka_unit_test(normalize_drops_separators_and_upper_cases),
        cmocka_unit_test(normalize_reads_o_as_zero_and_i_l_as_one),
        cmocka_unit_test(normalize_accepts_digit_only_scratch_codes),
        cmocka_unit_test(normalize_enforces_6_to_32_characters),
        cmocka_unit_test(normalize_refuses_other_characters),
        cmocka_unit_test(generated_code_is_found_after_hashing),
        cmocka_unit_test(lowercase_code_without_hyphens_is_found),
        cmocka_unit_test(code_typed_with_letters_for_digits_is_found),
        cmocka_unit_test(wrong_code_is_not_found),
        cmocka_unit_test(hash_is_sha256_of_salt_then_code),
        cmocka_unit_test(same_code_hashes_with_a_different_salt_each_time),
        cmocka_unit_test(hash_refuses_a_code_that_is_not_normalized),
        cmocka_unit_test(formatted_hash_is_lowercase_hex_salt_colon_digest),
        cmocka_unit_test(formatted_hash_parses_back_to_the_same_hash),
        cmocka_unit_test(parse_refuses_malformed_text),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
