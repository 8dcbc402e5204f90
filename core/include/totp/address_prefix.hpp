// SPDX-License-Identifier: Apache-2.0
// Address prefixes (CIDR) from the configuration, and whether an address falls in one:
// totp-resetd's trusted_proxies and the module's trusted_networks.
#pragma once

#include <sys/socket.h>

#include <array>
#include <optional>
#include <string_view>
#include <vector>

namespace totp {

// One entry of a list: the first `bits` bits of an IPv4 (4 bytes) or IPv6 address, or the
// keyword "unix" (every peer of a unix socket listener).
struct AddressPrefix {
    bool unix_peers = false;
    bool v6 = false;
    std::array<unsigned char, 16> bytes{};
    int bits = 0;
};

// "ADDRESS[/BITS] ..." or "unix" separated by spaces or commas; nullopt if any entry is not one.
std::optional<std::vector<AddressPrefix>> parse_address_prefixes(std::string_view list);

// The same without the "unix" keyword: networks of IP addresses only.
std::optional<std::vector<AddressPrefix>> parse_network_prefixes(std::string_view list);

// True if `peer` (AF_INET or AF_INET6; an IPv4-mapped IPv6 address as its IPv4 address)
// falls in one of `prefixes`, or is an AF_UNIX peer and "unix" is one of them.
bool address_in_prefixes(const sockaddr* peer, const std::vector<AddressPrefix>& prefixes);

// True if `text` is exactly an IPv4 address in dotted decimal or an IPv6 address as
// inet_pton reads them (an IPv4-mapped one as its IPv4 address) and falls in one of
// `prefixes`. Anything else never matches: a host name (nothing is resolved), a zone
// ("fe80::1%eth0"), leading zeros ("010.0.0.1"), spaces, an embedded NUL.
bool numeric_address_in_prefixes(std::string_view text, const std::vector<AddressPrefix>& prefixes);

// True if `text`, read as numeric_address_in_prefixes reads it, is a loopback or unspecified
// address or an address of one of this host's interfaces (getifaddrs; true when they cannot
// be listed): a peer there is a process on this host, or a connection it forwards.
bool is_this_hosts_address(std::string_view text);

// True if some prefix covers a loopback address (127.0.0.0/8, ::1): on a loopback TCP
// listener every local user is then a trusted proxy.
bool prefixes_cover_loopback(const std::vector<AddressPrefix>& prefixes);

}  // namespace totp
