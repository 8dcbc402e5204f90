// SPDX-License-Identifier: Apache-2.0
#include "terminal.hpp"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "totp/translation.hpp"

namespace totp_enroll {
namespace {

constexpr std::size_t kMaxLine = 1024;
constexpr std::array kStopSignals = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

volatile std::sig_atomic_t g_stop_signal = 0;

void note_signal(int signal) {
    g_stop_signal = signal;
}

// While alive, the stop signals are blocked and only delivered inside ppoll(), so a
// signal can't slip in between checking the flag and starting to wait.
class SignalCatcher {
  public:
    SignalCatcher() {
        g_stop_signal = 0;
        sigset_t stops;
        sigemptyset(&stops);
        for (int signal : kStopSignals) sigaddset(&stops, signal);
        sigprocmask(SIG_BLOCK, &stops, &saved_mask_);
        struct sigaction action {};
        action.sa_handler = note_signal;
        sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < kStopSignals.size(); ++i) {
            sigaction(kStopSignals[i], &action, &saved_actions_[i]);
        }
        wait_mask_ = saved_mask_;
        for (int signal : kStopSignals) sigdelset(&wait_mask_, signal);
    }
    ~SignalCatcher() {
        for (std::size_t i = 0; i < kStopSignals.size(); ++i) {
            sigaction(kStopSignals[i], &saved_actions_[i], nullptr);
        }
        sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
    }
    SignalCatcher(const SignalCatcher&) = delete;
    SignalCatcher& operator=(const SignalCatcher&) = delete;

    const sigset_t* wait_mask() const { return &wait_mask_; }

  private:
    sigset_t saved_mask_{};
    sigset_t wait_mask_{};
    std::array<struct sigaction, kStopSignals.size()> saved_actions_{};
};

// Turns echo off on a terminal and restores the previous settings on destruction.
class EchoOff {
  public:
    explicit EchoOff(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        active_ = ::tcsetattr(fd_, TCSANOW, &quiet) == 0;
    }
    ~EchoOff() {
        if (active_) ::tcsetattr(fd_, TCSANOW, &saved_);
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

    bool active() const { return active_; }

  private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

totp::Error aborted() {
    return totp::make_error(totp::Errc::cancelled, "aborted; nothing was changed");
}

totp::Result<totp::SecretString> read_line(const SignalCatcher& catcher) {
    totp::SecretString line;
    for (;;) {
        pollfd input{STDIN_FILENO, POLLIN, 0};
        if (::ppoll(&input, 1, nullptr, catcher.wait_mask()) < 0) {
            if (errno == EINTR) {
                if (g_stop_signal != 0) return aborted();
                continue;
            }
            return totp::make_error(totp::Errc::io,
                                    std::string("reading the terminal: ") + std::strerror(errno));
        }
        char c = 0;
        const ssize_t got = ::read(STDIN_FILENO, &c, 1);
        if (got < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            return totp::make_error(totp::Errc::io,
                                    std::string("reading the terminal: ") + std::strerror(errno));
        }
        if (got == 0) return aborted();
        if (c == '\n') return line;
        if (c != '\r' && line.size() < kMaxLine) line.append(std::string_view(&c, 1));
        totp::wipe(&c, 1);
    }
}

}  // namespace

totp::Result<totp::SecretString> ask_line(std::string_view prompt, Echo echo) {
    const SignalCatcher catcher;
    // Echo goes off before the prompt shows, so an answer typed the moment it appears is
    // never echoed.
    std::optional<EchoOff> quiet;
    if (echo == Echo::off) quiet.emplace(STDIN_FILENO);
    std::fwrite(prompt.data(), 1, prompt.size(), stdout);
    std::fflush(stdout);
    totp::Result<totp::SecretString> line = read_line(catcher);
    // Unless a terminal echoed the typed newline, end the prompt's line ourselves.
    const bool echoed = !(quiet && quiet->active()) && ::isatty(STDIN_FILENO);
    quiet.reset();
    if (!echoed) {
        std::fputs("\n", stdout);
        std::fflush(stdout);
    }
    return line;
}

std::optional<int> terminal_columns() {
    winsize size{};
    if (!::isatty(STDOUT_FILENO) || ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0 ||
        size.ws_col == 0) {
        return std::nullopt;
    }
    return static_cast<int>(size.ws_col);
}

totp::Result<std::uint64_t> ask_for_code(const char* prompt, const CodeAccept& accept,
                                         const std::string& refusal) {
    for (int answer = 0; answer < kCodeTries; ++answer) {
        totp::Result<totp::SecretString> typed = ask_line(totp::translate(prompt), Echo::off);
        if (!typed) return typed.error();
        if (const std::optional<std::uint64_t> accepted = accept(typed->view())) return *accepted;
        say(totp::translate("That code is not correct."));
    }
    return totp::make_error(totp::Errc::cancelled, refusal);
}

void say(std::string_view line) {
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

}  // namespace totp_enroll
