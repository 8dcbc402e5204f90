// SPDX-License-Identifier: Apache-2.0
// Logging to syslog (LOG_AUTHPRIV), and to stderr too with --foreground. Callers pass only
// values that are safe to log: never a token, code or password; user-supplied text goes
// through totp::printable() first.
#pragma once

#include <string>
#include <string_view>

namespace resetd {

void open_log(bool also_stderr);

[[gnu::format(printf, 1, 2)]] void log_error(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_warning(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_info(const char* format, ...);

}  // namespace resetd
