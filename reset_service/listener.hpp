// SPDX-License-Identifier: Apache-2.0
// The listening socket, opened by the monitor before the fork so that start-up errors
// (address in use) are reported at once, or inherited from systemd socket activation.
#pragma once

#include <string>

#include "totp/result.hpp"
#include "totp/unique_fd.hpp"

namespace resetd {

using totp::UniqueFd;

// The socket systemd passed (LISTEN_PID is us, LISTEN_FDS=1: fd 3), if any: TCP or unix,
// any stream socket.
totp::Result<UniqueFd> inherited_listener();

// A TCP socket listening on "IPv4:PORT" or "[IPv6]:PORT", or a unix socket on
// "unix:/path" (a stale socket there is replaced) with mode 0660, owned by root and `group`
// (empty: root's group), so that only a proxy in that group can connect. The web process
// keeps the descriptor after it drops its privileges; the path is not needed again.
totp::Result<UniqueFd> open_listener(const std::string& address, const std::string& group);

}  // namespace resetd
