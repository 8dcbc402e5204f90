// SPDX-License-Identifier: Apache-2.0
// The client address a trusted proxy forwards: only the item the proxy itself wrote may be
// believed (the rightmost), and a value that is no address must never count as one.
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <optional>
#include <string>

#include "client_address.hpp"
#include "cmocka.hpp"

namespace {

bool reads_as(const char* value, const char* address) {
    const std::optional<std::string> read = resetd::forwarded_address(value);
    return read && *read == address;
}

}  // namespace

static void a_single_address_is_read_in_canonical_form(void**) {
    assert_true(reads_as("198.51.100.7", "198.51.100.7"));
    assert_true(reads_as(" \t198.51.100.7 ", "198.51.100.7"));
    assert_true(reads_as("2001:DB8:0:0::1", "2001:db8::1"));
    assert_true(reads_as("::ffff:198.51.100.7", "::ffff:198.51.100.7"));
}

static void the_rightmost_of_joined_items_is_read(void**) {
    assert_true(reads_as("192.0.2.1, 198.51.100.7", "198.51.100.7"));
    assert_true(reads_as("192.0.2.1,198.51.100.7", "198.51.100.7"));
    assert_true(reads_as("unknown, 2001:db8::1", "2001:db8::1"));
    assert_true(reads_as("192.0.2.1, 192.0.2.2, 198.51.100.7", "198.51.100.7"));
}

static void a_port_after_the_address_is_dropped(void**) {
    assert_true(reads_as("198.51.100.7:4711", "198.51.100.7"));
    assert_true(reads_as("[2001:db8::1]:4711", "2001:db8::1"));
    assert_true(reads_as("[2001:db8::1]", "2001:db8::1"));
    assert_true(reads_as("192.0.2.1, 198.51.100.7:80", "198.51.100.7"));
}

static void anything_else_is_unreadable(void**) {
    for (const char* bad :
         {"", " ", "unknown", "198.51.100.7,", "198.51.100.7, ", "198.51.100.7 192.0.2.1",
          "198.51.100.7:", "198.51.100.7:x", "198.51.100.7:70000", "[2001:db8::1]:", "[2001:db8::1",
          "2001:db8::1]:80", "[198.51.100.7]x", "198.51.100.256", "_hidden", "198.51.100.7\r\n",
          "198.51.100.7;for=x"}) {
        assert_false(resetd::forwarded_address(bad).has_value());
    }
}

static void a_peer_without_an_internet_address_is_not_blank(void**) {
    sockaddr_in v4{};
    v4.sin_family = AF_INET;
    v4.sin_addr.s_addr = htonl(0xC6336407);  // 198.51.100.7
    assert_string_equal(resetd::peer_address(reinterpret_cast<const sockaddr*>(&v4)).c_str(),
                        "198.51.100.7");
    sockaddr_un unix_peer{};
    unix_peer.sun_family = AF_UNIX;
    assert_string_equal(resetd::peer_address(reinterpret_cast<const sockaddr*>(&unix_peer)).c_str(),
                        "0.0.0.0");
    assert_string_equal(resetd::peer_address(nullptr).c_str(), "0.0.0.0");
}

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_single_address_is_read_in_canonical_form),
        cmocka_unit_test(the_rightmost_of_joined_items_is_read),
        cmocka_unit_test(a_port_after_the_address_is_dropped),
        cmocka_unit_test(anything_else_is_unreadable),
        cmocka_unit_test(a_peer_without_an_internet_address_is_not_blank),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
