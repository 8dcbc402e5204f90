// SPDX-License-Identifier: Apache-2.0
#include "faults.hpp"

#include <fcntl.h>
#include <grp.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>

namespace faults {
namespace {

// Thread-local: the fuzzer's helper threads are never affected.
thread_local bool t_armed = false;
Plan g_plan;
Report g_report;
std::vector<User> g_users;
std::vector<Group> g_groups;

enum class Kind { read, write, other };

std::vector<std::pair<const char*, unsigned>> g_per_name;

unsigned count_call_of(const char* name) {
    for (auto& [known, count] : g_per_name) {
        if (std::strcmp(known, name) == 0) return count++;
    }
    g_per_name.emplace_back(name, 1);
    return 0;
}

// The fault planned for this call, if any (and counts the call).
const Fault* next_fault(const char* name, Kind kind) {
    if (!t_armed) return nullptr;
    const unsigned index = g_report.calls++;
    const unsigned of_name = count_call_of(name);
    for (const Fault& fault : g_plan.faults) {
        const bool chosen = fault.only == nullptr
                                ? fault.call == index
                                : std::strcmp(fault.only, name) == 0 && fault.call == of_name;
        if (!chosen) continue;
        if (fault.action == Action::fail) {
            g_report.failed = true;
            if (kind == Kind::write) g_report.write_failed = true;
        }
        g_report.hits.push_back(std::string(name) + "#" + std::to_string(index) + ":" +
                                (fault.action == Action::interrupt ? "EINTR"
                                 : fault.action == Action::short_io
                                     ? "short"
                                     : strerrorname_np(fault.error)));
        return &fault;
    }
    return nullptr;
}

// For calls that report failure as -1 + errno: applies a fail/interrupt fault.
bool fail_with_errno(const Fault* fault) {
    if (fault == nullptr || fault->action == Action::short_io) return false;
    errno = fault->action == Action::interrupt ? EINTR : fault->error;
    return true;
}

using group_t = struct group;

// Copies `text` into the caller's buffer; false (ERANGE) if it does not fit.
bool place(const std::string& text, char*& cursor, std::size_t& left, char*& out) {
    if (text.size() + 1 > left) return false;
    std::memcpy(cursor, text.c_str(), text.size() + 1);
    out = cursor;
    cursor += text.size() + 1;
    left -= text.size() + 1;
    return true;
}

}  // namespace

void set_accounts(std::vector<User> users, std::vector<Group> groups) {
    g_users = std::move(users);
    g_groups = std::move(groups);
}

const char* const kWrappedCalls[] = {
    "open",     "openat",     "pread",      "pwrite",     "read",         "fstat",
    "fstatat",  "lstat",      "flock",      "fsync",      "fdatasync",    "linkat",
    "renameat", "renameat2",  "unlinkat",   "fchmod",     "mkdirat",      "setfsuid",
    "setfsgid", "getpwnam_r", "getpwuid_r", "getgrnam_r", "getgrouplist", "RAND_bytes",
};
const std::size_t kWrappedCallCount = sizeof kWrappedCalls / sizeof kWrappedCalls[0];

void arm(const Plan& plan) {
    g_plan = plan;
    g_per_name.clear();
    g_report = Report{};
    t_armed = true;
}

void disarm() {
    t_armed = false;
}

const Report& report() {
    return g_report;
}

}  // namespace faults

using faults::fail_with_errno;
using faults::group_t;
using faults::Kind;
using faults::next_fault;
using faults::place;

// The names are what `ld --wrap` defines: __wrap_X is called instead of X, __real_X is X.
// NOLINTBEGIN(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
extern "C" {

int __real_open(const char* path, int flags, ...);
int __real_openat(int dir, const char* path, int flags, ...);
ssize_t __real_pread(int fd, void* buf, size_t count, off_t offset);
ssize_t __real_pwrite(int fd, const void* buf, size_t count, off_t offset);
ssize_t __real_read(int fd, void* buf, size_t count);
int __real_fstat(int fd, struct stat* st);
int __real_fstatat(int dir, const char* path, struct stat* st, int flags);
int __real_lstat(const char* path, struct stat* st);
int __real_flock(int fd, int operation);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_linkat(int olddir, const char* oldpath, int newdir, const char* newpath, int flags);
int __real_unlinkat(int dir, const char* path, int flags);
int __real_fchmod(int fd, mode_t mode);
int __real_mkdirat(int dir, const char* path, mode_t mode);
int __real_renameat(int olddir, const char* oldpath, int newdir, const char* newpath);
int __real_renameat2(int olddir, const char* oldpath, int newdir, const char* newpath,
                     unsigned int flags);
int __real_setfsuid(uid_t uid);
int __real_setfsgid(gid_t gid);
int __real_RAND_bytes(unsigned char* buf, int num);
int __real_clock_gettime(clockid_t clock, struct timespec* ts);

int __wrap_open(const char* path, int flags, ...) {
    mode_t mode = 0;
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list args;
        va_start(args, flags);
        mode = static_cast<mode_t>(va_arg(args, int));
        va_end(args);
    }
    if (fail_with_errno(next_fault("open", Kind::read))) return -1;
    return __real_open(path, flags, mode);
}

int __wrap_openat(int dir, const char* path, int flags, ...) {
    mode_t mode = 0;
    if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
        va_list args;
        va_start(args, flags);
        mode = static_cast<mode_t>(va_arg(args, int));
        va_end(args);
    }
    const Kind kind = (flags & O_CREAT) != 0 ? Kind::write : Kind::read;
    if (fail_with_errno(next_fault("openat", kind))) return -1;
    return __real_openat(dir, path, flags, mode);
}

ssize_t __wrap_pread(int fd, void* buf, size_t count, off_t offset) {
    const faults::Fault* fault = next_fault("pread", Kind::read);
    if (fail_with_errno(fault)) return -1;
    if (fault != nullptr && count > 1) count /= 2;
    return __real_pread(fd, buf, count, offset);
}

ssize_t __wrap_read(int fd, void* buf, size_t count) {
    const faults::Fault* fault = next_fault("read", Kind::read);
    if (fail_with_errno(fault)) return -1;
    if (fault != nullptr && count > 1) count /= 2;
    return __real_read(fd, buf, count);
}

ssize_t __wrap_pwrite(int fd, const void* buf, size_t count, off_t offset) {
    const faults::Fault* fault = next_fault("pwrite", Kind::write);
    if (fault != nullptr && fault->action == faults::Action::fail && count > 1) {
        // A device that fails mid-write: part of the data lands, then the error.
        const ssize_t ignored = __real_pwrite(fd, buf, count / 3, offset);
        (void)ignored;
    }
    if (fail_with_errno(fault)) return -1;
    if (fault != nullptr && count > 1) count /= 2;
    return __real_pwrite(fd, buf, count, offset);
}

int __wrap_fstat(int fd, struct stat* st) {
    if (fail_with_errno(next_fault("fstat", Kind::read))) return -1;
    return __real_fstat(fd, st);
}

int __wrap_fstatat(int dir, const char* path, struct stat* st, int flags) {
    if (fail_with_errno(next_fault("fstatat", Kind::read))) return -1;
    return __real_fstatat(dir, path, st, flags);
}

int __wrap_lstat(const char* path, struct stat* st) {
    if (fail_with_errno(next_fault("lstat", Kind::read))) return -1;
    return __real_lstat(path, st);
}

int __wrap_flock(int fd, int operation) {
    if (fail_with_errno(next_fault("flock", Kind::read))) return -1;
    return __real_flock(fd, operation);
}

int __wrap_fsync(int fd) {
    if (fail_with_errno(next_fault("fsync", Kind::write))) return -1;
    return __real_fsync(fd);
}

int __wrap_fdatasync(int fd) {
    if (fail_with_errno(next_fault("fdatasync", Kind::write))) return -1;
    return __real_fdatasync(fd);
}

int __wrap_linkat(int olddir, const char* oldpath, int newdir, const char* newpath, int flags) {
    if (fail_with_errno(next_fault("linkat", Kind::write))) return -1;
    return __real_linkat(olddir, oldpath, newdir, newpath, flags);
}

int __wrap_renameat(int olddir, const char* oldpath, int newdir, const char* newpath) {
    if (fail_with_errno(next_fault("renameat", Kind::write))) return -1;
    return __real_renameat(olddir, oldpath, newdir, newpath);
}

int __wrap_renameat2(int olddir, const char* oldpath, int newdir, const char* newpath,
                     unsigned int flags) {
    if (fail_with_errno(next_fault("renameat2", Kind::write))) return -1;
    return __real_renameat2(olddir, oldpath, newdir, newpath, flags);
}

int __wrap_unlinkat(int dir, const char* path, int flags) {
    if (fail_with_errno(next_fault("unlinkat", Kind::write))) return -1;
    return __real_unlinkat(dir, path, flags);
}

int __wrap_fchmod(int fd, mode_t mode) {
    if (fail_with_errno(next_fault("fchmod", Kind::write))) return -1;
    return __real_fchmod(fd, mode);
}

int __wrap_mkdirat(int dir, const char* path, mode_t mode) {
    if (fail_with_errno(next_fault("mkdirat", Kind::write))) return -1;
    return __real_mkdirat(dir, path, mode);
}

// setfsuid cannot report failure except by not switching (a failed switch leaves the old
// id). Only switches away from root can fail: root may always switch back.
int __wrap_setfsuid(uid_t uid) {
    const faults::Fault* fault = next_fault("setfsuid", Kind::other);
    if (fault != nullptr && fault->action == faults::Action::fail && uid != 0)
        return __real_setfsuid(static_cast<uid_t>(-1));
    return __real_setfsuid(uid);
}

int __wrap_setfsgid(gid_t gid) {
    const faults::Fault* fault = next_fault("setfsgid", Kind::other);
    if (fault != nullptr && fault->action == faults::Action::fail && gid != 0)
        return __real_setfsgid(static_cast<gid_t>(-1));
    return __real_setfsgid(gid);
}

int __wrap_RAND_bytes(unsigned char* buf, int num) {
    const faults::Fault* fault = next_fault("RAND_bytes", Kind::other);
    if (fault != nullptr && fault->action == faults::Action::fail) return 0;
    return __real_RAND_bytes(buf, num);
}

int __wrap_clock_gettime(clockid_t clock, struct timespec* ts) {
    if (faults::t_armed && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
        ts->tv_sec = static_cast<time_t>(faults::g_plan.now);
        ts->tv_nsec = 0;
        return 0;
    }
    return __real_clock_gettime(clock, ts);
}

// Answers a passwd lookup from faults::g_users: the first user `matches` accepts.
extern "C++" template <class Match>
int fake_passwd_lookup(const char* call, Match&& matches, struct passwd* entry, char* buffer,
                       size_t size, struct passwd** result) {
    *result = nullptr;
    const faults::Fault* fault = next_fault(call, Kind::other);
    if (fault != nullptr && fault->action == faults::Action::fail) return fault->error;
    if (fault != nullptr && fault->action == faults::Action::interrupt) return ERANGE;
    for (const faults::User& user : faults::g_users) {
        if (!matches(user)) continue;
        char* cursor = buffer;
        std::size_t left = size;
        *entry = passwd{};
        if (!place(user.name, cursor, left, entry->pw_name) ||
            !place("x", cursor, left, entry->pw_passwd) ||
            !place("", cursor, left, entry->pw_gecos) ||
            !place(user.home, cursor, left, entry->pw_dir) ||
            !place("/bin/sh", cursor, left, entry->pw_shell)) {
            return ERANGE;
        }
        entry->pw_uid = user.uid;
        entry->pw_gid = user.gid;
        *result = entry;
        return 0;
    }
    return 0;
}

int __wrap_getpwnam_r(const char* name, struct passwd* entry, char* buffer, size_t size,
                      struct passwd** result) {
    return fake_passwd_lookup(
        "getpwnam_r", [name](const faults::User& user) { return user.name == name; }, entry, buffer,
        size, result);
}

int __wrap_getpwuid_r(uid_t uid, struct passwd* entry, char* buffer, size_t size,
                      struct passwd** result) {
    return fake_passwd_lookup(
        "getpwuid_r", [uid](const faults::User& user) { return user.uid == uid; }, entry, buffer,
        size, result);
}

int __wrap_getgrnam_r(const char* name, struct group* entry, char* buffer, size_t size,
                      struct group** result) {
    *result = nullptr;
    const faults::Fault* fault = next_fault("getgrnam_r", Kind::other);
    if (fault != nullptr && fault->action == faults::Action::fail) return fault->error;
    static char* no_members[] = {nullptr};
    for (const faults::Group& group : faults::g_groups) {
        if (group.name != name) continue;
        char* cursor = buffer;
        std::size_t left = size;
        *entry = group_t{};
        if (!place(group.name, cursor, left, entry->gr_name) ||
            !place("x", cursor, left, entry->gr_passwd)) {
            return ERANGE;
        }
        entry->gr_gid = group.gid;
        entry->gr_mem = no_members;
        *result = entry;
        return 0;
    }
    return 0;
}

int __wrap_getgrouplist(const char* name, gid_t primary, gid_t* groups, int* count) {
    const faults::Fault* fault = next_fault("getgrouplist", Kind::other);
    if (fault != nullptr && fault->action == faults::Action::fail) {
        *count = 0;
        return -1;
    }
    std::vector<gid_t> all{primary};
    for (const faults::User& user : faults::g_users) {
        if (user.name == name) all.insert(all.end(), user.groups.begin(), user.groups.end());
    }
    const int needed = static_cast<int>(all.size());
    const int room = *count;
    *count = needed;
    if (room < needed) return -1;
    std::copy(all.begin(), all.end(), groups);
    return needed;
}

}  // extern "C"
// NOLINTEND(bugprone-reserved-identifier,cert-dcl37-c,cert-dcl51-cpp)
