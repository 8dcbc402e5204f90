// SPDX-License-Identifier: Apache-2.0
#include "client_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>

namespace resetd {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool is_port(std::string_view text) {
    unsigned port = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
    return error == std::errc{} && end == text.data() + text.size() && port <= 65535;
}

// "[IPv6]:PORT" or "[IPv6]" -> "IPv6"; "IPv4:PORT" -> "IPv4"; anything else as it is.
std::string_view without_port(std::string_view item) {
    if (item.starts_with('[')) {
        const std::size_t close = item.find(']');
        if (close == std::string_view::npos) return item;
        const std::string_view rest = item.substr(close + 1);
        if (rest.empty() || (rest.starts_with(':') && is_port(rest.substr(1)))) {
            return item.substr(1, close - 1);
        }
        return item;
    }
    const std::size_t colon = item.find(':');
    if (colon != std::string_view::npos && item.find(':', colon + 1) == std::string_view::npos &&
        is_port(item.substr(colon + 1))) {
        return item.substr(0, colon);  // one colon: IPv4 with a port, never IPv6
    }
    return item;
}

}  // namespace

std::optional<std::string> canonical_address(std::string_view text) {
    const std::string address(text);
    char out[INET6_ADDRSTRLEN] = {};
    in6_addr v6{};
    in_addr v4{};
    if (::inet_pton(AF_INET, address.c_str(), &v4) == 1) {
        ::inet_ntop(AF_INET, &v4, out, sizeof out);
    } else if (::inet_pton(AF_INET6, address.c_str(), &v6) == 1) {
        ::inet_ntop(AF_INET6, &v6, out, sizeof out);
    } else {
        return std::nullopt;
    }
    return std::string(out);
}

std::optional<std::string> forwarded_address(std::string_view value) {
    const std::size_t comma = value.rfind(',');
    const std::string_view item = comma == std::string_view::npos ? value : value.substr(comma + 1);
    return canonical_address(without_port(trim(item)));
}

std::string peer_address(const sockaddr* peer) {
    char text[INET6_ADDRSTRLEN] = {};
    if (peer != nullptr && peer->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, text,
                    sizeof text);
    } else if (peer != nullptr && peer->sa_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr, text,
                    sizeof text);
    }
    return text[0] != '\0' ? text : "0.0.0.0";
}

}  // namespace resetd
