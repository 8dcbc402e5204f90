// SPDX-License-Identifier: Apache-2.0
#include "privileges.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace totp_enroll {
namespace {

constexpr std::size_t kMaxEnvValue = 64;
constexpr const char* kSafePath = "/usr/sbin:/usr/bin:/sbin:/bin";

// Elevations may nest (a record kept open across a call that elevates too); only the
// outermost one changes the effective ids.
int g_elevation_depth = 0;

// A privileged program that cannot return to the caller's identity must not go on.
[[noreturn]] void die(const char* what) {
    std::fprintf(stderr, "totp-enroll: %s: %s\n", what, std::strerror(errno));
    std::_Exit(1);
}

bool is_plain(std::string_view value, std::string_view extra) {
    if (value.empty() || value.size() > kMaxEnvValue) return false;
    for (char c : value) {
        const bool alnum =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && extra.find(c) == std::string_view::npos) return false;
    }
    return true;
}

// Keeps TERM and the locale only when they are plain names (no paths, no escapes),
// sets a fixed PATH, and drops everything else (LD_*, TOTP_*, IFS, HOME, ...).
void sanitize_environment() {
    std::vector<std::pair<std::string, std::string>> kept;
    if (const char* term = std::getenv("TERM"); term && is_plain(term, "-_.+")) {
        kept.emplace_back("TERM", term);
    }
    for (const char* name : {"LANG", "LC_ALL"}) {
        if (const char* value = std::getenv(name); value && is_plain(value, "-_.@")) {
            kept.emplace_back(name, value);
        }
    }
    if (::clearenv() != 0) die("clearing the environment");
    ::setenv("PATH", kSafePath, 1);
    for (const auto& [name, value] : kept) ::setenv(name.c_str(), value.c_str(), 1);
}

// A setuid program may be started with stdin, stdout or stderr closed, so that a file it
// opens lands on fd 0-2 and receives its prompts or messages.
void ensure_standard_fds() {
    for (int fd = 0; fd <= 2; ++fd) {
        struct stat st {};
        if (::fstat(fd, &st) == 0) continue;
        if (::open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd) std::_Exit(1);
    }
}

void set_effective(uid_t uid, gid_t gid, bool raising) {
    // Raising: the uid first (only root may change the gid). Lowering: the gid first.
    if (raising) {
        if (::seteuid(uid) != 0) die("seteuid");
        if (::setegid(gid) != 0) die("setegid");
    } else {
        if (::setegid(gid) != 0) die("setegid");
        if (::seteuid(uid) != 0) die("seteuid");
    }
}

}  // namespace

Privileges Privileges::start() {
    ensure_standard_fds();
    // Secrets are in memory: no core files.
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);

    const uid_t uid = ::getuid();
    const gid_t gid = ::getgid();
    if (uid == 0) return Privileges(uid, gid, false);

    sanitize_environment();
    const bool setuid_root = ::geteuid() == 0;
    if (::getegid() != gid && ::setegid(gid) != 0) die("setegid");
    if (setuid_root) set_effective(uid, gid, false);
    return Privileges(uid, gid, setuid_root);
}

Privileges::Elevation Privileges::elevate() const {
    if (!can_elevate_) return Elevation();
    return Elevation(real_uid_, real_gid_);
}

void Privileges::drop_permanently() {
    if (real_uid_ == 0 || !can_elevate_) return;
    if (::setresgid(real_gid_, real_gid_, real_gid_) != 0) die("setresgid");
    if (::setresuid(real_uid_, real_uid_, real_uid_) != 0) die("setresuid");
    uid_t ruid, euid, suid;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ruid != real_uid_ || euid != real_uid_ ||
        suid != real_uid_) {
        die("dropping privileges");
    }
    can_elevate_ = false;
}

Privileges::Elevation::Elevation(uid_t uid, gid_t gid) : active_(true), uid_(uid), gid_(gid) {
    if (g_elevation_depth++ == 0) set_effective(0, 0, true);
}

Privileges::Elevation::Elevation(Elevation&& other) noexcept
    : active_(std::exchange(other.active_, false)), uid_(other.uid_), gid_(other.gid_) {}

Privileges::Elevation& Privileges::Elevation::operator=(Elevation&& other) noexcept {
    if (this != &other) {
        release();
        active_ = std::exchange(other.active_, false);
        uid_ = other.uid_;
        gid_ = other.gid_;
    }
    return *this;
}

Privileges::Elevation::~Elevation() {
    release();
}

void Privileges::Elevation::release() {
    if (!active_) return;
    if (--g_elevation_depth == 0) set_effective(uid_, gid_, false);
    active_ = false;
}

Privileges::Unstoppable Privileges::unstoppable() const {
    return Unstoppable(can_elevate_);
}

Privileges::Unstoppable::Unstoppable(bool active) : active_(active) {
    if (!active_) return;
    sigset_t stops;
    sigemptyset(&stops);
    sigaddset(&stops, SIGTSTP);
    sigaddset(&stops, SIGTTIN);
    sigaddset(&stops, SIGTTOU);
    if (::sigprocmask(SIG_BLOCK, &stops, &previous_mask_) != 0) die("sigprocmask");
    if (::getresuid(&ruid_, &euid_, &suid_) != 0) die("getresuid");
    // Raising the effective uid first: changing the real one needs it.
    if (::seteuid(0) != 0 || ::setresuid(0, 0, 0) != 0) die("setresuid");
}

Privileges::Unstoppable::~Unstoppable() {
    if (!active_) return;
    if (::setresuid(ruid_, euid_, suid_) != 0) die("setresuid");
    if (::sigprocmask(SIG_SETMASK, &previous_mask_, nullptr) != 0) die("sigprocmask");
}

}  // namespace totp_enroll
