// SPDX-License-Identifier: Apache-2.0
// How the monitor starts the web process: it forks, and the child executes totp-resetd
// again with the internal argument --web-child, as OpenSSH re-executes sshd for its
// children. A forked copy would share the root monitor's memory layout and its stack
// canary and pointer guard (AT_RANDOM), so a memory disclosure in the HTTP-facing process
// would hand an attacker what an exploit of the monitor needs; a fresh exec gets its own.
//
// The new image receives exactly three descriptors, at fixed numbers; every other one is
// closed before the exec. --web-child refuses to run without them.
#pragma once

#include <sys/types.h>

#include <chrono>

#include "command_line.hpp"
#include "totp/result.hpp"
#include "totp/unique_fd.hpp"

namespace resetd {

using totp::UniqueFd;

inline constexpr int kWebListenFd = 3;   // the listening TCP socket
inline constexpr int kWebChannelFd = 4;  // the web process's end of the socketpair
inline constexpr int kWebReadyFd = 5;    // a pipe: one byte once it serves, then closed

struct WebProcess {
    pid_t pid = -1;
    UniqueFd ready;  // the read end of the ready pipe
};

// In the monitor: starts the web process on `listener` and `channel`. The program is
// /proc/self/exe, the very file the monitor runs even if an upgrade replaced it since;
// its environment is the monitor's without systemd's notify, watchdog and socket variables.
totp::Result<WebProcess> start_web_process(const Options& options, int listener, int channel);

// In the monitor: true once the web process says it serves; false if it exited first or
// did not say so within `deadline`.
bool wait_until_serving(int ready, std::chrono::milliseconds deadline);

struct WebDescriptors {
    UniqueFd listener;
    UniqueFd channel;
    UniqueFd ready;
    pid_t monitor = -1;  // the creator of the socketpair
};

// In the web process: the three descriptors, each checked to be what the monitor passes (a
// listening stream socket, a unix seqpacket socket whose peer is root, a pipe's write end).
totp::Result<WebDescriptors> adopt_web_descriptors();

}  // namespace resetd
