// SPDX-License-Identifier: Apache-2.0
// The client address the per-address limits count, PAM_RHOST and the change notice show:
// the peer's, or the one a trusted proxy forwarded in client_ip_header.
#pragma once

#include <sys/socket.h>

#include <optional>
#include <string>
#include <string_view>

namespace resetd {

// What a peer of the unix socket listener counts as when no trusted header names its
// client: one local address, so that all of them share one bucket (never "no limit").
inline constexpr const char* kUnixPeerAddress = "127.0.0.1";

// `text` as a canonical IPv4 or IPv6 address, or nullopt.
std::optional<std::string> canonical_address(std::string_view text);

// The address in the value of the last header line a trusted proxy sent: its rightmost
// comma-separated item (a proxy that joins or appends puts the address it saw last),
// trimmed, with a ":PORT" after an IPv4 address or "[IPv6]:PORT" read without the port.
// nullopt: not an address (the request is then refused, never counted against the proxy).
std::optional<std::string> forwarded_address(std::string_view value);

// The address of a TCP peer; 0.0.0.0 if there is none (a unix socket listener's peers are
// kUnixPeerAddress instead).
std::string peer_address(const sockaddr* peer);

}  // namespace resetd
