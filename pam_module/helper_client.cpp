// SPDX-License-Identifier: Apache-2.0
#include "helper_client.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "totp/unique_fd.hpp"
#include "totp/verify_helper.hpp"

#ifndef TOTP_VERIFY_HELPER_PATH
#error "TOTP_VERIFY_HELPER_PATH must name the installed totp-verify"
#endif

namespace pam_totp {
namespace {

using totp::UniqueFd;

constexpr const char* kHelperPath = TOTP_VERIFY_HELPER_PATH;

HelperAnswer failed(std::string problem) {
    return HelperAnswer{HelperAnswer::Kind::failed, std::move(problem)};
}

struct Pipe {
    UniqueFd read;
    UniqueFd write;
};

// Both ends close-on-exec and above the standard descriptors, so the dup2 of one end onto
// 0 or 1 in the child can never overwrite the other (a caller may have closed its stdio).
bool make_pipe(Pipe& pipe) {
    int ends[2];
    if (::pipe2(ends, O_CLOEXEC) != 0) return false;
    UniqueFd read_end(ends[0]);
    UniqueFd write_end(ends[1]);
    pipe.read = UniqueFd(::fcntl(read_end.get(), F_DUPFD_CLOEXEC, 3));
    pipe.write = UniqueFd(::fcntl(write_end.get(), F_DUPFD_CLOEXEC, 3));
    return pipe.read.valid() && pipe.write.valid();
}

// The code goes into the pipe before the helper exists: it fits the pipe's buffer, and a
// helper that dies early can then never raise SIGPIPE in the caller. Anything longer than
// the helper reads is cut: it is a wrong code either way, and the helper records it so.
bool send_code(const Pipe& pipe, const totp::SecretString& code) {
    const std::string_view text = code.view().substr(0, totp::kMaxHelperInput + 1);
    std::size_t sent = 0;
    while (sent < text.size()) {
        const ssize_t n = ::write(pipe.write.get(), text.data() + sent, text.size() - sent);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

class SpawnSetup {
  public:
    SpawnSetup() {
        actions_ok_ = ::posix_spawn_file_actions_init(&actions_) == 0;
        attr_ok_ = ::posix_spawnattr_init(&attr_) == 0;
    }
    ~SpawnSetup() {
        if (actions_ok_) ::posix_spawn_file_actions_destroy(&actions_);
        if (attr_ok_) ::posix_spawnattr_destroy(&attr_);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    // stdin: the code, stdout: the answer, stderr: /dev/null, nothing else open; every
    // signal at its default and none blocked, whatever the calling program set.
    bool prepare(int code_fd, int answer_fd) {
        if (!actions_ok_ || !attr_ok_) return false;
        sigset_t none;
        sigset_t all;
        sigemptyset(&none);
        sigfillset(&all);
        return ::posix_spawn_file_actions_adddup2(&actions_, code_fd, 0) == 0 &&
               ::posix_spawn_file_actions_adddup2(&actions_, answer_fd, 1) == 0 &&
               ::posix_spawn_file_actions_addopen(&actions_, 2, "/dev/null", O_WRONLY, 0) == 0 &&
               ::posix_spawn_file_actions_addclosefrom_np(&actions_, 3) == 0 &&
               ::posix_spawnattr_setsigmask(&attr_, &none) == 0 &&
               ::posix_spawnattr_setsigdefault(&attr_, &all) == 0 &&
               ::posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) ==
                   0;
    }

    const posix_spawn_file_actions_t* actions() const { return &actions_; }
    const posix_spawnattr_t* attr() const { return &attr_; }

  private:
    posix_spawn_file_actions_t actions_{};
    posix_spawnattr_t attr_{};
    bool actions_ok_ = false;
    bool attr_ok_ = false;
};

// Reads the answer until end of file (the helper exited or closed it), at most a few
// bytes, until `deadline`. false: the deadline passed first.
bool read_answer(int fd, std::chrono::steady_clock::time_point deadline, std::string& answer) {
    char buffer[16];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR) continue;
        if (ready == 0) return false;
        if (ready < 0) return true;  // no more to read: judged on what came
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return true;
        if (answer.size() < 64) answer.append(buffer, static_cast<std::size_t>(n));
    }
}

using Clock = std::chrono::steady_clock;

// Ends a helper that outlived the deadline, and waits for it (it cannot ignore SIGKILL).
void kill_and_reap(pid_t pid) {
    ::kill(pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

struct Exit {
    bool in_time = true;        // false: still running at the deadline, killed
    std::optional<int> status;  // nullopt: reaped by the calling program itself
};

// The helper's exit status, waiting until `deadline` at most: a helper that closed its
// answer early must not hold the login longer than one that never answers. No status
// when the calling program reaps children itself (SIGCHLD ignored, or a handler of its
// own): the answer alone then counts.
Exit wait_for_exit(pid_t pid, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t done = ::waitpid(pid, &status, WNOHANG);
        if (done == pid) return Exit{true, status};
        if (done < 0 && errno != EINTR) return Exit{true, std::nullopt};
        if (Clock::now() >= deadline) {
            kill_and_reap(pid);
            return Exit{false, std::nullopt};
        }
        ::usleep(2000);
    }
}

std::string describe_status(int status) {
    if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
    if (!WIFEXITED(status)) return "ended abnormally";
    switch (static_cast<totp::HelperExit>(WEXITSTATUS(status))) {
        case totp::HelperExit::bad_request:
            return "refused the request (exit status 2)";
        case totp::HelperExit::failed:
            return "could not check the code (exit status 3, its log line says why)";
        case totp::HelperExit::accepted:
        case totp::HelperExit::refused:
            break;
    }
    return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// The status of a spawned program that could not be executed.
constexpr int kCouldNotExecute = 127;

HelperAnswer judge(const std::string& answer, std::optional<int> status) {
    const auto exited_with = [&](totp::HelperExit code) {
        return !status || (WIFEXITED(*status) && WEXITSTATUS(*status) == static_cast<int>(code));
    };
    if (answer == totp::kHelperYes && exited_with(totp::HelperExit::accepted)) {
        return HelperAnswer{HelperAnswer::Kind::accepted, {}};
    }
    if (answer == totp::kHelperNo && exited_with(totp::HelperExit::refused)) {
        return HelperAnswer{HelperAnswer::Kind::refused, {}};
    }
    const std::string how = status ? describe_status(*status) : "could not be waited for";
    if (answer.empty()) return failed(std::string("the verification helper ") + how);
    return failed("the verification helper gave an answer it never gives and " + how);
}

}  // namespace

HelperAnswer run_verify_helper(const char* path, const std::string& user,
                               const totp::SecretString& code, std::chrono::milliseconds deadline) {
    // A helper that is not there says so in plain words (the spawn below reports it only
    // where posix_spawn sees the exec fail).
    if (::access(path, X_OK) != 0) {
        return failed(std::string("cannot run the verification helper ") + path + ": " +
                      std::strerror(errno));
    }
    Pipe input;
    Pipe output;
    if (!make_pipe(input) || !make_pipe(output)) {
        return failed(std::string("cannot make a pipe for the verification helper: ") +
                      std::strerror(errno));
    }
    if (!send_code(input, code)) return failed("cannot hand the code to the verification helper");
    input.write.reset();

    SpawnSetup setup;
    if (!setup.prepare(input.read.get(), output.write.get())) {
        return failed("cannot prepare to run the verification helper");
    }
    std::string program = path;
    std::string name = user;
    char* argv[] = {program.data(), name.data(), nullptr};
    char* envp[] = {nullptr};
    pid_t pid = -1;
    if (const int error = ::posix_spawn(&pid, path, setup.actions(), setup.attr(), argv, envp);
        error != 0) {
        return failed(std::string("cannot run the verification helper ") + path + ": " +
                      std::strerror(error));
    }
    input.read.reset();
    output.write.reset();

    const Clock::time_point end = Clock::now() + deadline;
    std::string answer;
    const bool answered = read_answer(output.read.get(), end, answer);
    const Exit exit = answered ? wait_for_exit(pid, end) : Exit{false, std::nullopt};
    if (!answered) kill_and_reap(pid);
    if (!exit.in_time) {
        return failed("the verification helper did not finish within " +
                      std::to_string(deadline.count()) + " ms and was killed");
    }
    // 127 without an answer: the exec failed after the spawn (where posix_spawn cannot see
    // it, as under valgrind, which spawns with a fork).
    if (answer.empty() && exit.status && WIFEXITED(*exit.status) &&
        WEXITSTATUS(*exit.status) == kCouldNotExecute) {
        return failed(std::string("cannot run the verification helper ") + path +
                      ": it could not be executed (exit status 127)");
    }
    return judge(answer, exit.status);
}

HelperAnswer ask_verify_helper(const std::string& user, const totp::SecretString& code) {
    return run_verify_helper(kHelperPath, user, code, totp::kHelperDeadline);
}

}  // namespace pam_totp
