// SPDX-License-Identifier: Apache-2.0
#include "service_manager.hpp"

#include <systemd/sd-daemon.h>

#include <algorithm>
#include <cstdint>

namespace resetd {
namespace {

// A quarter of the interval, and at most this: the longest gap between two pings is then
// a period plus one request (protocol.hpp's kAnswerDeadline), well inside WatchdogSec=.
constexpr std::chrono::milliseconds kLongestPeriod{5000};

}  // namespace

void notify_ready() {
    ::sd_notify(0, "READY=1\nSTATUS=serving");
}

Watchdog::Watchdog() {
    std::uint64_t interval_us = 0;
    if (::sd_watchdog_enabled(0, &interval_us) <= 0) return;
    const auto quarter = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::microseconds(interval_us / 4));
    period_ = std::clamp(quarter, std::chrono::milliseconds(1), kLongestPeriod);
}

int Watchdog::poll_timeout_ms() const {
    return period_.count() == 0 ? -1 : static_cast<int>(period_.count());
}

void Watchdog::ping_if_due() {
    if (period_.count() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < period_) return;
    ::sd_notify(0, "WATCHDOG=1");
    last_ = now;
}

}  // namespace resetd
