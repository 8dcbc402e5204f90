// SPDX-License-Identifier: Apache-2.0
// pam_totp.so through the real libpam (pam_wrapper): trusted_networks in [global]. A login
// whose PAM_RHOST is a numeric address inside one of the networks is not asked for a code;
// anything else that a client or a resolver could shape into "looking like" such an address
// (host names, zones, inet_aton spellings, spaces, ports) is asked as usual, and so is a login
// without PAM_RHOST. A bad network refuses every login, and a module argument cannot set it.

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <security/pam_appl.h>

#include <string>
#include <vector>

#include "fixture.hpp"

// cmocka needs these first, and its macros must come after the C++ headers.
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

using fixture::code_at;
using fixture::enroll;
using fixture::kEpoch;
using fixture::log_contains;
using fixture::login_from;
using fixture::password_of;

namespace {

constexpr const char* kNetworks = "[global]\ntrusted_networks = 10.0.0.0/8 2001:db8::/32\n";

int group_setup(void** state) {
    fixture::setup_sandbox(state);
    fixture::write_service("login", "");
    fixture::write_service("argument", "trusted_networks=0.0.0.0/0");
    fixture::write_service("bare-argument", "trusted_networks");
    fixture::write_forward_pass_service("forward");
    return 0;
}

void trust(const std::string& networks) {
    fixture::write_file(fixture::paths().config, "[global]\ntrusted_networks = " + networks + "\n",
                        0644);
}

// alice, enrolled, logs in from `rhost` typing only her password: the code was skipped.
bool skips_the_code(const std::string& rhost) {
    enroll("alice");
    const auto result = login_from("login", "alice", {password_of("alice")}, rhost);
    return result.rc == PAM_SUCCESS && result.prompts.size() == 1;
}

// alice, freshly enrolled, logs in from `rhost`: asked for the code, she gets in with it.
bool asks_for_the_code(const std::string& rhost) {
    const auto secret = enroll("alice");
    const auto result =
        login_from("login", "alice", {password_of("alice"), code_at(secret, {}, kEpoch)}, rhost);
    return result.rc == PAM_SUCCESS && result.prompts.size() == 2;
}

void address_inside_a_trusted_network_skips_the_code_and_is_logged(void**) {
    fixture::write_file(fixture::paths().config, kNetworks, 0644);
    assert_true(skips_the_code("10.20.30.40"));
    // LOG_AUTHPRIV | LOG_INFO, with user, service and host.
    assert_true(
        log_contains("<86> pam_totp(login:auth): login from a trusted network, "
                     "verification code not asked for user alice "
                     "(service=login rhost=10.20.30.40)"));
    assert_true(skips_the_code("2001:db8:7::1"));
    assert_true(skips_the_code("2001:DB8::1"));
}

void ipv4_mapped_ipv6_address_counts_as_its_ipv4_address(void**) {
    fixture::write_file(fixture::paths().config, kNetworks, 0644);
    assert_true(skips_the_code("::ffff:10.1.2.3"));
    assert_true(asks_for_the_code("::ffff:11.1.2.3"));
    trust("::ffff:10.0.0.0/104");  // a mapped network is not the IPv4 one either
    assert_true(asks_for_the_code("10.1.2.3"));
}

void address_outside_every_network_is_asked(void**) {
    fixture::write_file(fixture::paths().config, kNetworks, 0644);
    for (const char* rhost : {"11.0.0.1", "9.255.255.255", "192.168.1.1", "2001:db9::1",
                              "::10.0.0.1", "::1", "127.0.0.1"}) {
        assert_true(asks_for_the_code(rhost));
    }
    assert_false(log_contains("trusted network"));
}

void prefix_length_is_honoured_to_the_bit(void**) {
    trust("192.168.4.0/23");
    assert_true(skips_the_code("192.168.5.255"));
    assert_true(asks_for_the_code("192.168.6.0"));
    assert_true(asks_for_the_code("192.168.3.255"));
}

void login_without_rhost_is_asked(void**) {
    trust("0.0.0.0/0 ::/0");
    const auto secret = enroll("alice");
    const auto result =
        fixture::login("login", "alice", {password_of("alice"), code_at(secret, {}, kEpoch)});
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 2);
    assert_true(asks_for_the_code(""));
}

// sshd with UseDNS puts the client's host name in PAM_RHOST; whoever controls the reverse
// zone chooses it. The module resolves nothing: "localhost" (127.0.0.1 in /etc/hosts) is
// not 127.0.0.1.
void host_name_resolving_into_a_trusted_network_is_asked(void**) {
    trust("127.0.0.0/8 10.0.0.0/8 ::1");
    for (const char* rhost : {"localhost", "localhost.localdomain", "ip6-localhost",
                              "10.0.0.1.example.org", "10-0-0-1.example.org"}) {
        assert_true(asks_for_the_code(rhost));
    }
}

// Strings a lenient parser (inet_aton, getaddrinfo, a trimming split) would read as
// 10.0.0.1: each must be asked, only the strict spelling counts.
void address_lookalikes_are_asked(void**) {
    trust("10.0.0.0/8 fe80::/10");
    for (const char* rhost :
         {"10.0.0.1%eth0",   "fe80::1%eth0", "010.0.0.1",  "10.00.0.1",   "10.1",
          "10.0.1",          "167772161",    "0x0a000001", "0xa.0.0.1",   "10.0.0.1 ",
          " 10.0.0.1",       "10.0.0.1\n",   "10.0.0.1\t", "10.0.0.1:22", "[10.0.0.1]",
          "[fe80::1]",       "10.0.0.1/8",   "10.0.0.1.",  "10.0.0.1,",   "10.0.0.1 evil",
          "::ffff:010.0.0.1"}) {
        assert_true(asks_for_the_code(rhost));
    }
    assert_true(skips_the_code("10.0.0.1"));
    assert_true(skips_the_code("fe80::1"));
}

// The addresses of this host's own interfaces, as sshd would write a peer using them.
std::vector<std::string> own_addresses() {
    std::vector<std::string> addresses;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return addresses;
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        if (entry->ifa_addr == nullptr) continue;
        char text[INET6_ADDRSTRLEN] = {};
        const int family = entry->ifa_addr->sa_family;
        const void* bytes = nullptr;
        if (family == AF_INET)
            bytes = &reinterpret_cast<const sockaddr_in*>(entry->ifa_addr)->sin_addr;
        if (family == AF_INET6)
            bytes = &reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr)->sin6_addr;
        if (bytes != nullptr && ::inet_ntop(family, bytes, text, sizeof text) != nullptr)
            addresses.emplace_back(text);
    }
    ::freeifaddrs(list);
    return addresses;
}

// A connection from this host itself (any local user's ssh to localhost or to the host's own
// address, a TCP forward through it: ssh -J, -L) carries a loopback or one of the host's own
// addresses: it never comes from a trusted network, whatever the networks cover.
void connection_from_this_host_itself_is_asked(void**) {
    trust("0.0.0.0/0 ::/0");
    for (const char* rhost : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
        assert_true(asks_for_the_code(rhost));
    }
    for (const std::string& rhost : own_addresses()) {
        if (rhost.find('%') != std::string::npos) continue;  // a zone never matches anyway
        assert_true(asks_for_the_code(rhost));
    }
    assert_true(log_contains("from this host itself"));
    assert_true(skips_the_code("198.51.100.7"));  // not this host's: trusted as configured
}

void without_trusted_networks_nothing_is_trusted(void**) {
    fixture::write_file(fixture::paths().config, "[global]\ntrusted_networks =\n", 0644);
    assert_true(asks_for_the_code("10.0.0.1"));
    fixture::write_file(fixture::paths().config, "", 0644);
    assert_true(asks_for_the_code("10.0.0.1"));
}

void bad_network_refuses_every_login(void**) {
    for (const char* networks :
         {"10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "10.0.0.0/-8", "10.0.0.0/8x",
          "intranet.example.org", "10.0.0.0/8 lan", "unix", "010.0.0.0/8", "10.0.0.0/+8"}) {
        trust(networks);
        fixture::write_file(fixture::paths().syslog, "");
        enroll("alice");
        const auto result = login_from("login", "alice", {password_of("alice")}, "10.0.0.1");
        assert_int_equal(result.rc, PAM_SERVICE_ERR);
        assert_true(log_contains("bad value for 'trusted_networks'"));
        assert_true(log_contains("refusing all logins"));
    }
}

// Service files are not checked by the module as its config file is (owner, mode, no
// symlink): only the config file decides who skips the code.
void module_argument_cannot_trust_a_network(void**) {
    fixture::write_file(fixture::paths().config, kNetworks, 0644);
    for (const char* service : {"argument", "bare-argument"}) {
        fixture::write_file(fixture::paths().syslog, "");
        enroll("alice");
        const auto result = login_from(service, "alice", {password_of("alice")}, "10.0.0.1");
        assert_int_equal(result.rc, PAM_SERVICE_ERR);
        assert_true(log_contains("'trusted_networks' is read only from the configuration file"));
    }
}

void wrong_password_from_a_trusted_network_is_still_refused(void**) {
    fixture::write_file(fixture::paths().config, kNetworks, 0644);
    enroll("alice");
    const auto result = login_from("login", "alice", {"not-her-password"}, "10.0.0.1");
    assert_int_equal(result.rc, PAM_AUTH_ERR);
}

// With forward_pass the whole answer is the password from a trusted network, and the
// checking line takes the kept (empty) code, so nothing is reported as unchecked.
void forward_pass_from_a_trusted_network_hands_the_whole_answer_on(void**) {
    fixture::write_file(fixture::paths().config, kNetworks, 0644);
    enroll("alice");
    const auto result = login_from("forward", "alice", {password_of("alice")}, "10.0.0.1");
    assert_int_equal(result.rc, PAM_SUCCESS);
    assert_int_equal(result.prompts.size(), 1);
    assert_false(log_contains("no later pam_totp line checked it"));
}

}  // namespace

int main() {
    const CMUnitTest tests[] = {
#define CASE(name) cmocka_unit_test_setup(name, fixture::reset)
        CASE(address_inside_a_trusted_network_skips_the_code_and_is_logged),
        CASE(ipv4_mapped_ipv6_address_counts_as_its_ipv4_address),
        CASE(address_outside_every_network_is_asked),
        CASE(prefix_length_is_honoured_to_the_bit),
        CASE(login_without_rhost_is_asked),
        CASE(host_name_resolving_into_a_trusted_network_is_asked),
        CASE(address_lookalikes_are_asked),
        CASE(connection_from_this_host_itself_is_asked),
        CASE(without_trusted_networks_nothing_is_trusted),
        CASE(bad_network_refuses_every_login),
        CASE(module_argument_cannot_trust_a_network),
        CASE(wrong_password_from_a_trusted_network_is_still_refused),
        CASE(forward_pass_from_a_trusted_network_hands_the_whole_answer_on),
#undef CASE
    };
    return cmocka_run_group_tests(tests, group_setup, fixture::teardown_sandbox);
}
