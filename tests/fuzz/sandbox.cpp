// SPDX-License-Identifier: Apache-2.0
#include "sandbox.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace fuzz {
namespace {

std::string g_dir;

void remove_sandbox() {
    std::error_code ignored;
    std::filesystem::remove_all(g_dir, ignored);
}

[[noreturn]] void die(const char* what) {
    std::perror(what);
    std::abort();
}

// A fuzzer that crashed (that is its job) never ran its atexit handlers: sandboxes of
// processes that are gone are removed by the next one.
void remove_stale_sandboxes(const std::string& base) {
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(base, error)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with("pam_totp_fuzz.")) continue;
        const long pid = std::strtol(name.c_str() + 14, nullptr, 10);
        if (pid > 0 && kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
            std::filesystem::remove_all(entry.path(), error);
        }
    }
}

}  // namespace

const std::string& sandbox_dir() {
    if (g_dir.empty()) {
        const std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        remove_stale_sandboxes(base);
        const std::string dir = base + "/pam_totp_fuzz." + std::to_string(getpid());
        std::error_code ignored;
        std::filesystem::remove_all(dir, ignored);
        if (mkdir(dir.c_str(), 0755) != 0 || chmod(dir.c_str(), 0755) != 0) die("sandbox mkdir");
        g_dir = dir;
        std::atexit(remove_sandbox);
    }
    return g_dir;
}

void write_file(const std::string& path, const std::string& content, unsigned mode) {
    unlink(path.c_str());
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0) die("fuzz sandbox: open");
    if (write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size()))
        die("fuzz sandbox: write");
    if (fchmod(fd, mode) != 0) die("fuzz sandbox: fchmod");
    close(fd);
}

}  // namespace fuzz
