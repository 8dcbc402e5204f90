// SPDX-License-Identifier: Apache-2.0
// The unprivileged web process: libmicrohttpd serves the pages, our bounded parser reads
// the form bodies, and every decision is a request to the monitor (protocol.hpp).
#pragma once

#include <string>

#include "totp/reset_settings.hpp"
#include "totp/unique_fd.hpp"

namespace resetd {

struct WebConfig {
    totp::ResetSettings reset;
    std::string site_name;
};

// Serves on listen_fd until SIGTERM/SIGINT/SIGHUP (exit status 0) or until the monitor
// stops answering (1). Writes one byte to `ready` (and closes it) once it accepts
// connections. Call after drop_privileges, with those signals blocked.
int run_web(const WebConfig& config, int listen_fd, int monitor_fd, totp::UniqueFd ready);

}  // namespace resetd
