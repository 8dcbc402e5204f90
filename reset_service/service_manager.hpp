// SPDX-License-Identifier: Apache-2.0
// What systemd learns from the monitor, the unit's main process (sd_notify(3)): that the
// service is ready (Type=notify), and, with WatchdogSec=, that the monitor still answers.
// Started without NOTIFY_SOCKET (by hand, by a test) nothing is sent.
#pragma once

#include <chrono>

namespace resetd {

// READY=1: both processes run and the web process accepts connections.
void notify_ready();

// Pinged from the monitor's request loop, between requests only: a loop stuck in a request,
// or a stopped monitor, stops the pings and systemd restarts the service after WatchdogSec=.
class Watchdog {
  public:
    // From WATCHDOG_USEC and WATCHDOG_PID, as sd_watchdog_enabled(3) reads them; off without.
    Watchdog();

    // How long the loop may wait in poll() and still ping in time; -1 (no limit) when off.
    int poll_timeout_ms() const;
    // WATCHDOG=1, if a ping period has passed since the last one.
    void ping_if_due();

  private:
    std::chrono::milliseconds period_{0};  // 0: off
    std::chrono::steady_clock::time_point last_{};
};

}  // namespace resetd
