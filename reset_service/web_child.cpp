// SPDX-License-Identifier: Apache-2.0
#include "web_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "log.hpp"

namespace resetd {
namespace {

static_assert(kWebChannelFd == kWebListenFd + 1 && kWebReadyFd == kWebListenFd + 2);

constexpr const char* kProgram = "/proc/self/exe";
// Above the numbers the descriptors are moved to, so that none is overwritten on the way.
constexpr int kFirstScratchFd = 10;

// Set by systemd for the unit's main process: the web process must neither notify systemd
// nor take a passed socket for its own.
constexpr std::array<std::string_view, 6> kMonitorOnlyVariables = {
    "NOTIFY_SOCKET=", "WATCHDOG_USEC=", "WATCHDOG_PID=",
    "LISTEN_PID=",    "LISTEN_FDS=",    "LISTEN_FDNAMES="};

constexpr const char* kRefusal =
    "--web-child is how the monitor starts the web process, with the descriptors it passes: "
    "a listening socket at 3, a socketpair at 4 and a pipe at 5";

totp::Error failure(const std::string& what) {
    return totp::make_error(totp::Errc::io, what + ": " + std::strerror(errno));
}

std::vector<std::string> web_arguments(const Options& options) {
    std::vector<std::string> arguments = {"totp-resetd", "--web-child", "--config",
                                          options.config_path};
    if (!options.listen.empty()) {
        arguments.emplace_back("--listen");
        arguments.push_back(options.listen);
    }
    if (options.foreground) arguments.emplace_back("--foreground");
    return arguments;
}

std::vector<char*> web_environment() {
    std::vector<char*> kept;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        const std::string_view variable(*entry);
        if (std::none_of(kMonitorOnlyVariables.begin(), kMonitorOnlyVariables.end(),
                         [&](std::string_view name) { return variable.starts_with(name); })) {
            kept.push_back(*entry);
        }
    }
    kept.push_back(nullptr);
    return kept;
}

[[noreturn]] void give_up(const char* what) {
    log_error("starting the web process: %s: %s", what, std::strerror(errno));
    ::_exit(1);
}

// In the forked child: `passed` to their fixed numbers, every other descriptor above them
// closed, then the exec.
[[noreturn]] void exec_web_process(const std::array<int, 3>& passed, char* const argv[],
                                   char* const envp[]) {
    std::array<int, 3> moved{};
    for (std::size_t i = 0; i < passed.size(); ++i) {
        moved[i] = ::fcntl(passed[i], F_DUPFD_CLOEXEC, kFirstScratchFd);
        if (moved[i] < 0) give_up("moving a descriptor");
    }
    for (std::size_t i = 0; i < moved.size(); ++i) {
        // dup2 leaves the new number open across the exec.
        if (::dup2(moved[i], kWebListenFd + static_cast<int>(i)) < 0) give_up("dup2");
    }
    if (::close_range(kWebReadyFd + 1, ~0U, 0) != 0) give_up("closing descriptors");
    ::execve(kProgram, argv, envp);
    give_up(kProgram);
}

bool socket_option_is(int fd, int option, int expected) {
    int value = 0;
    socklen_t size = sizeof value;
    return ::getsockopt(fd, SOL_SOCKET, option, &value, &size) == 0 && value == expected;
}

bool is_pipe_write_end(int fd) {
    struct stat st {};
    return ::fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) &&
           (::fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY;
}

}  // namespace

totp::Result<WebProcess> start_web_process(const Options& options, int listener, int channel) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return failure("pipe");
    UniqueFd ready(ends[0]);
    const UniqueFd ready_write(ends[1]);
    std::vector<std::string> arguments = web_arguments(options);
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    const std::vector<char*> envp = web_environment();

    const pid_t pid = ::fork();
    if (pid < 0) return failure("fork");
    if (pid == 0)
        exec_web_process({listener, channel, ready_write.get()}, argv.data(), envp.data());
    return WebProcess{pid, std::move(ready)};
}

bool wait_until_serving(int ready, std::chrono::milliseconds deadline) {
    pollfd fd{ready, POLLIN, 0};
    int polled;
    do {
        polled = ::poll(&fd, 1, static_cast<int>(deadline.count()));
    } while (polled < 0 && errno == EINTR);
    char serving = 0;
    return polled == 1 && ::read(ready, &serving, 1) == 1;
}

totp::Result<WebDescriptors> adopt_web_descriptors() {
    const bool listener = socket_option_is(kWebListenFd, SO_TYPE, SOCK_STREAM) &&
                          socket_option_is(kWebListenFd, SO_ACCEPTCONN, 1);
    ucred peer{};
    socklen_t size = sizeof peer;
    const bool channel = socket_option_is(kWebChannelFd, SO_DOMAIN, AF_UNIX) &&
                         socket_option_is(kWebChannelFd, SO_TYPE, SOCK_SEQPACKET) &&
                         ::getsockopt(kWebChannelFd, SOL_SOCKET, SO_PEERCRED, &peer, &size) == 0 &&
                         peer.uid == 0;
    if (!listener || !channel || !is_pipe_write_end(kWebReadyFd)) {
        return totp::make_error(totp::Errc::invalid_argument, kRefusal);
    }
    for (int fd : {kWebListenFd, kWebChannelFd, kWebReadyFd}) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    return WebDescriptors{UniqueFd(kWebListenFd), UniqueFd(kWebChannelFd), UniqueFd(kWebReadyFd),
                          peer.pid};
}

}  // namespace resetd
