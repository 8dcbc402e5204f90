// SPDX-License-Identifier: Apache-2.0
#include "totp/address_prefix.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <string>

#include "config_file.hpp"

namespace totp {
namespace {

std::optional<AddressPrefix> parse_address_prefix(std::string_view entry) {
    if (entry == "unix") return AddressPrefix{.unix_peers = true};
    const std::size_t slash = entry.find('/');
    const std::string address(entry.substr(0, slash));
    AddressPrefix prefix;
    if (::inet_pton(AF_INET, address.c_str(), prefix.bytes.data()) != 1) {
        if (::inet_pton(AF_INET6, address.c_str(), prefix.bytes.data()) != 1) return std::nullopt;
        prefix.v6 = true;
    }
    const int max_bits = prefix.v6 ? 128 : 32;
    prefix.bits = max_bits;
    if (slash != std::string_view::npos) {
        const auto bits = detail::parse_int(entry.substr(slash + 1), 0, max_bits);
        if (!bits) return std::nullopt;
        prefix.bits = *bits;
    }
    return prefix;
}

bool prefix_matches(const AddressPrefix& prefix, bool v6, const unsigned char* bytes) {
    if (prefix.unix_peers || prefix.v6 != v6) return false;
    const int whole = prefix.bits / 8;
    if (!std::equal(bytes, bytes + whole, prefix.bytes.begin())) return false;
    const int rest = prefix.bits % 8;
    if (rest == 0) return true;
    const unsigned mask = (0xFFu << (8 - rest)) & 0xFFu;
    return (bytes[whole] & mask) == (prefix.bytes[static_cast<std::size_t>(whole)] & mask);
}

// An IPv4-mapped IPv6 address is its IPv4 address: the same peer seen through a dual-stack
// socket must match the same networks.
bool in6_in_prefixes(const in6_addr& address, const std::vector<AddressPrefix>& prefixes) {
    const bool v6 = !IN6_IS_ADDR_V4MAPPED(&address);
    const unsigned char* bytes = v6 ? address.s6_addr : address.s6_addr + 12;
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const AddressPrefix& prefix) {
        return prefix_matches(prefix, v6, bytes);
    });
}

bool in4_in_prefixes(const in_addr& address, const std::vector<AddressPrefix>& prefixes) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(&address);
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const AddressPrefix& prefix) {
        return prefix_matches(prefix, false, bytes);
    });
}

// An address as numeric_address_in_prefixes reads it: an IPv4 or IPv4-mapped IPv6 address as
// its 4 bytes, any other IPv6 address as its 16.
struct NumericAddress {
    std::array<unsigned char, 16> bytes{};
    std::size_t size = 4;
};

// glibc's inet_pton takes exactly four decimal parts without leading zeros for IPv4, and
// no zone or surrounding space for IPv6: nothing a resolver or inet_aton would also read.
// It would stop at an embedded NUL and read only the text before it, so that is refused.
std::optional<NumericAddress> parse_numeric_address(std::string_view text) {
    if (text.find('\0') != std::string_view::npos) return std::nullopt;
    const std::string address(text);
    NumericAddress parsed;
    if (::inet_pton(AF_INET, address.c_str(), parsed.bytes.data()) == 1) return parsed;
    in6_addr v6{};
    if (::inet_pton(AF_INET6, address.c_str(), &v6) != 1) return std::nullopt;
    const bool mapped = IN6_IS_ADDR_V4MAPPED(&v6);
    parsed.size = mapped ? 4 : 16;
    std::copy_n(v6.s6_addr + (mapped ? 12 : 0), parsed.size, parsed.bytes.begin());
    return parsed;
}

// 127.0.0.0/8, 0.0.0.0/8, ::1 and ::.
bool is_loopback_or_unspecified(const NumericAddress& address) {
    if (address.size == 4) return address.bytes[0] == 127 || address.bytes[0] == 0;
    return std::all_of(address.bytes.begin(), address.bytes.end() - 1,
                       [](unsigned char byte) { return byte == 0; }) &&
           address.bytes[15] <= 1;
}

// One of this host's interfaces has `address`; true as well when they cannot be listed.
bool is_interface_address(const NumericAddress& address) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return true;
    const std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owned(list, ::freeifaddrs);
    for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
        const sockaddr* own = entry->ifa_addr;
        const unsigned char* own_bytes = nullptr;
        if (own != nullptr && own->sa_family == AF_INET && address.size == 4) {
            own_bytes = reinterpret_cast<const unsigned char*>(
                &reinterpret_cast<const sockaddr_in*>(own)->sin_addr);
        } else if (own != nullptr && own->sa_family == AF_INET6 && address.size == 16) {
            own_bytes = reinterpret_cast<const sockaddr_in6*>(own)->sin6_addr.s6_addr;
        }
        if (own_bytes != nullptr &&
            std::equal(own_bytes, own_bytes + address.size, address.bytes.begin())) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<std::vector<AddressPrefix>> parse_address_prefixes(std::string_view list) {
    constexpr std::string_view kSeparators = " \t,";
    std::vector<AddressPrefix> prefixes;
    while (!list.empty()) {
        const std::size_t start = list.find_first_not_of(kSeparators);
        if (start == std::string_view::npos) break;
        list.remove_prefix(start);
        const std::size_t end = std::min(list.find_first_of(kSeparators), list.size());
        const auto prefix = parse_address_prefix(list.substr(0, end));
        if (!prefix) return std::nullopt;
        prefixes.push_back(*prefix);
        list.remove_prefix(end);
    }
    return prefixes;
}

std::optional<std::vector<AddressPrefix>> parse_network_prefixes(std::string_view list) {
    auto prefixes = parse_address_prefixes(list);
    if (!prefixes || std::any_of(prefixes->begin(), prefixes->end(),
                                 [](const AddressPrefix& prefix) { return prefix.unix_peers; })) {
        return std::nullopt;
    }
    return prefixes;
}

bool address_in_prefixes(const sockaddr* peer, const std::vector<AddressPrefix>& prefixes) {
    if (peer->sa_family == AF_INET) {
        return in4_in_prefixes(reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, prefixes);
    }
    if (peer->sa_family == AF_INET6) {
        return in6_in_prefixes(reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr, prefixes);
    }
    if (peer->sa_family == AF_UNIX) {
        return std::any_of(prefixes.begin(), prefixes.end(),
                           [](const AddressPrefix& prefix) { return prefix.unix_peers; });
    }
    return false;
}

bool numeric_address_in_prefixes(std::string_view text,
                                 const std::vector<AddressPrefix>& prefixes) {
    const std::optional<NumericAddress> address = parse_numeric_address(text);
    if (!address) return false;
    return std::any_of(prefixes.begin(), prefixes.end(), [&](const AddressPrefix& prefix) {
        return prefix_matches(prefix, address->size == 16, address->bytes.data());
    });
}

bool is_this_hosts_address(std::string_view text) {
    const std::optional<NumericAddress> address = parse_numeric_address(text);
    if (!address) return false;
    return is_loopback_or_unspecified(*address) || is_interface_address(*address);
}

bool prefixes_cover_loopback(const std::vector<AddressPrefix>& prefixes) {
    return std::any_of(prefixes.begin(), prefixes.end(), [](const AddressPrefix& prefix) {
        // Overlaps 127.0.0.0/8 when its first min(bits, 8) bits are those of 127.
        std::array<unsigned char, 16> probe = prefix.bytes;
        probe[0] = 127;
        in6_addr v6_loopback = IN6ADDR_LOOPBACK_INIT;
        return prefix_matches(prefix, false, probe.data()) ||
               prefix_matches(prefix, true, v6_loopback.s6_addr);
    });
}

}  // namespace totp
