// SPDX-License-Identifier: Apache-2.0
// Logging to syslog (LOG_AUTHPRIV), and to stderr too with --foreground. Callers pass only
// values that are safe to log: never a token, code or password; user-supplied text goes
// through totp::printable() first.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace resetd {

void open_log(bool also_stderr);

[[gnu::format(printf, 1, 2)]] void log_error(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_warning(const char* format, ...);
[[gnu::format(printf, 1, 2)]] void log_info(const char* format, ...);

// Keeps a flood of refusals from writing a line each (filling the disk, drowning the lines
// that matter): at most `burst` lines of one kind per `interval` seconds. The lines held
// back are counted; the first line let through after them says how many there were
// (last_held_back()). Thread-safe: the request thread and the mail worker share some.
class LogThrottle {
  public:
    // `kind` names the lines in the count of held-back ones ("reset requests over the limit").
    LogThrottle(const char* kind, int burst, std::int64_t interval)
        : kind_(kind), burst_(burst), interval_(interval) {}

    // True: write the line (and mention last_held_back() if it is not 0).
    bool admit(std::int64_t now);
    // Held back since the last line let through.
    std::uint64_t held_back();
    // Held back before the line admit() last let through.
    std::uint64_t last_held_back();
    const char* kind() const { return kind_; }

  private:
    const char* const kind_;
    const int burst_;
    const std::int64_t interval_;
    std::mutex mutex_;
    std::int64_t window_start_ = 0;
    int written_in_window_ = 0;
    std::uint64_t held_back_ = 0;
    std::uint64_t last_held_back_ = 0;
};

}  // namespace resetd
