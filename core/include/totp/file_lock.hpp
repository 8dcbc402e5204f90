// SPDX-License-Identifier: Apache-2.0
// Taking a file lock with a deadline. A lock is held by some other local process, and that
// process can be stopped (a user's Ctrl-Z or SIGSTOP of their own totp-enroll): nothing may
// wait for it without bound, or one user freezes logins and the reset service.
#pragma once

#include <chrono>
#include <string>

#include "totp/result.hpp"

namespace totp {

// How long a lock taker waits before it fails closed. A working holder keeps a lock for
// milliseconds (nothing holds one across a prompt), so a wait this long means the holder
// is stopped or stuck; a login that gives up after it still ends promptly.
inline constexpr std::chrono::milliseconds kLockDeadline{5000};

// The moment a lock taker gives up: `budget` after it was made, however many attempts (at
// one lock, or at the lock of a file replaced meanwhile) the taker makes until then.
// Measured on the monotonic clock, never the settable one TOTP codes are read from.
class LockDeadline {
  public:
    explicit LockDeadline(std::chrono::milliseconds budget = kLockDeadline)
        : budget_(budget), end_(std::chrono::steady_clock::now() + budget) {}

    bool passed() const { return std::chrono::steady_clock::now() >= end_; }
    std::chrono::milliseconds budget() const { return budget_; }

  private:
    std::chrono::milliseconds budget_;
    std::chrono::steady_clock::time_point end_;
};

// Takes an exclusive flock on `fd`, retrying until `deadline` has passed. Errc::busy when
// another process still holds it then, with a message naming `what` ("state file
// /var/lib/pam_totp/alice") and how long we waited; Errc::io when flock fails otherwise.
Status lock_exclusive(int fd, const std::string& what,
                      const LockDeadline& deadline = LockDeadline());

}  // namespace totp
