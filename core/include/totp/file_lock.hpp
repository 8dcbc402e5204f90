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

// Takes an exclusive flock on `fd`, retrying until `deadline` has passed on the monotonic
// clock (never the settable clock TOTP codes are read from). Errc::busy when another
// process still holds it then, saying so and for how long we waited; Errc::io when flock
// fails otherwise. `what` names the locked object in the message ("state file /x/alice").
Status lock_exclusive(int fd, const std::string& what,
                      std::chrono::milliseconds deadline = kLockDeadline);

}  // namespace totp
