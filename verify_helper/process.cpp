// SPDX-License-Identifier: Apache-2.0
#include "process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "totp/verify_helper.hpp"

namespace totp_verify {
namespace {

void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        struct stat st {};
        if (::fstat(fd, &st) == 0) continue;
        if (::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) std::_Exit(3);
    }
}

// Dispositions set to "ignore" and blocked signals survive exec: a caller could keep the
// helper's own deadline (SIGALRM) from ending it.
void reset_signals() {
    for (int signal = 1; signal < NSIG; ++signal) ::signal(signal, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

// Limits survive exec too, and the caller may lower any of them: a file size limit killed the
// helper (SIGXFSZ) while it wrote the record, the attempt then lost or counted but neither
// logged nor answered; a small stack (SIGSEGV), too few descriptors, too little memory or CPU
// time would end it at a point of the caller's choosing. The soft limit can always go up to the
// hard one; a hard limit below `wanted` only with CAP_SYS_RESOURCE. false: it stays below.
bool raise_limit(int resource, rlim_t wanted) {
    const rlimit both{wanted, wanted};
    if (::setrlimit(resource, &both) == 0) return true;
    rlimit now{};
    if (::getrlimit(resource, &now) != 0 || now.rlim_max < wanted) return false;
    now.rlim_cur = wanted;
    return ::setrlimit(resource, &now) == 0;
}

// Root's usual limits; kHelperSelfDeadline bounds the run. Not setuid, the helper has no
// need of them: the store refuses anyway.
bool reset_limits() {
    if (::geteuid() != 0) return true;
    constexpr rlim_t kFiles = 1024;
    bool raised = raise_limit(RLIMIT_NOFILE, kFiles);
    for (const int resource : {RLIMIT_FSIZE, RLIMIT_CPU, RLIMIT_DATA, RLIMIT_AS, RLIMIT_STACK}) {
        raised = raise_limit(resource, RLIM_INFINITY) && raised;
    }
    return raised;
}

}  // namespace

bool reset_process_state() {
    ensure_standard_fds();
    reset_signals();
    const bool limits_raised = reset_limits();
    ::close_range(3, ~0U, 0);
    if (::clearenv() != 0) std::_Exit(3);
    ::setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    // The code and the record's secret are in memory: no core files.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    ::umask(077);
    // Installed setuid root, not setgid: anything made on the way is root's group, not the
    // caller's. Not installed setuid, the store refuses on its own.
    if (::geteuid() == 0 && ::setegid(0) != 0) std::_Exit(3);
    ::alarm(static_cast<unsigned>(totp::kHelperSelfDeadline.count()));
    return limits_raised;
}

totp::Result<totp::SecretString> read_code_input() {
    if (::isatty(STDIN_FILENO)) {
        return totp::make_error(totp::Errc::not_permitted, "standard input is a terminal");
    }
    totp::SecretString input;
    input.reserve(totp::kMaxHelperInput + 1);
    char buffer[totp::kMaxHelperInput + 1];
    while (input.size() <= totp::kMaxHelperInput) {
        const ssize_t n = ::read(STDIN_FILENO, buffer, totp::kMaxHelperInput + 1 - input.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            const int error = errno;
            totp::wipe(buffer, sizeof buffer);
            return totp::make_error(
                totp::Errc::io, std::string("cannot read standard input: ") + std::strerror(error));
        }
        if (n == 0) break;
        input.append(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
    totp::wipe(buffer, sizeof buffer);
    return input;
}

}  // namespace totp_verify
