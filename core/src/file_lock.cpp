// SPDX-License-Identifier: Apache-2.0
// flock has no timeout, and one made of signals (alarm, timers) would be a process-wide
// side effect of a library loaded into sshd. So the lock is tried without blocking and the
// attempt repeated after a short, growing pause until the deadline.
#include "totp/file_lock.hpp"

#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

namespace totp {
namespace {

// The first retry comes soon, as a working holder is done within milliseconds; later ones
// less often, but never so far apart that a released lock goes unnoticed for long.
constexpr std::chrono::milliseconds kFirstPause{1};
constexpr std::chrono::milliseconds kLongestPause{20};

// "5 s", or "250 ms" for a deadline that is not whole seconds.
std::string duration_text(std::chrono::milliseconds duration) {
    const auto count = duration.count();
    return count % 1000 == 0 ? std::to_string(count / 1000) + " s" : std::to_string(count) + " ms";
}

}  // namespace

Status lock_exclusive(int fd, const std::string& what, const LockDeadline& deadline) {
    std::chrono::milliseconds pause = kFirstPause;
    for (;;) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return {};
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) {
            return make_error(Errc::io, "locking " + what + ": " + std::strerror(errno));
        }
        // Checked after an attempt, so the last attempt is made at the deadline, not before.
        if (deadline.passed()) break;
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, kLongestPause);
    }
    return make_error(Errc::busy, what + ": locked by another process, gave up after " +
                                      duration_text(deadline.budget()));
}

}  // namespace totp
