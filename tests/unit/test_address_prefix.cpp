// SPDX-License-Identifier: Apache-2.0
// Numeric addresses as trusted_networks reads PAM_RHOST: one parser for both questions.
#include <string_view>

#include "totp/address_prefix.hpp"

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

using namespace std::string_view_literals;

static void numeric_addresses_match_their_prefixes(void**) {
    const auto prefixes = totp::parse_network_prefixes("10.0.0.0/8 2001:db8::/32");
    assert_true(prefixes.has_value());
    assert_true(totp::numeric_address_in_prefixes("10.1.2.3", *prefixes));
    assert_true(totp::numeric_address_in_prefixes("::ffff:10.1.2.3", *prefixes));
    assert_true(totp::numeric_address_in_prefixes("2001:db8::7", *prefixes));
    assert_false(totp::numeric_address_in_prefixes("11.1.2.3", *prefixes));
    assert_false(totp::numeric_address_in_prefixes("010.1.2.3", *prefixes));
    assert_false(totp::numeric_address_in_prefixes("10.1.2.3 ", *prefixes));
    assert_false(totp::numeric_address_in_prefixes("fe80::1%eth0", *prefixes));
    assert_false(totp::numeric_address_in_prefixes("localhost", *prefixes));
}

// inet_pton would stop at the NUL and read only "127.0.0.1".
static void address_with_an_embedded_nul_is_refused_by_both_entry_points(void**) {
    const auto prefixes = totp::parse_network_prefixes("127.0.0.0/8");
    assert_true(prefixes.has_value());
    assert_true(totp::numeric_address_in_prefixes("127.0.0.1", *prefixes));
    assert_true(totp::is_this_hosts_address("127.0.0.1"));
    constexpr std::string_view kWithNul = "127.0.0.1\0.example.org"sv;
    assert_false(totp::numeric_address_in_prefixes(kWithNul, *prefixes));
    assert_false(totp::is_this_hosts_address(kWithNul));
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(numeric_addresses_match_their_prefixes),
        cmocka_unit_test(address_with_an_embedded_nul_is_refused_by_both_entry_points),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
