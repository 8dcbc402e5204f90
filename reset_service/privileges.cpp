// SPDX-License-Identifier: Apache-2.0
#include "privileges.hpp"

#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "totp/account.hpp"

namespace resetd {
namespace {

totp::Error failure(const std::string& what) {
    return totp::make_error(totp::Errc::io, what + ": " + std::strerror(errno));
}

bool has_capabilities() {
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0) return true;  // cannot tell: assume the worst
    for (const auto& set : data) {
        if (set.effective != 0 || set.permitted != 0 || set.inheritable != 0) return true;
    }
    return false;
}

}  // namespace

totp::Result<WebAccount> find_web_account(const std::string& name) {
    const totp::Result<totp::Account> account = totp::find_account(name);
    if (!account && account.error().code == totp::Errc::not_found) {
        return totp::make_error(totp::Errc::not_found,
                                "the account '" + name +
                                    "' for the web process does not exist "
                                    "(create it: useradd --system --no-create-home --shell "
                                    "/usr/sbin/nologin " +
                                    name + ")");
    }
    if (!account) return account.error();
    if (account->uid == 0 || account->gid == 0) {
        return totp::make_error(totp::Errc::unsafe,
                                "the web process's account '" + name + "' is root or in group 0");
    }
    return WebAccount{name, account->uid, account->gid};
}

totp::Status prepare_jail(const std::string& path) {
    if (path.empty()) return {};
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return failure("creating " + path);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) return failure(path);
    if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
        return totp::make_error(totp::Errc::unsafe, "chroot_dir " + path +
                                                        " must be a directory owned by root and "
                                                        "not writable by group or other");
    }
    return {};
}

totp::Status drop_privileges(const WebAccount& account, const std::string& jail, pid_t monitor) {
    if (!jail.empty()) {
        if (::chroot(jail.c_str()) != 0) return failure("chroot " + jail);
    }
    if (::chdir("/") != 0) return failure("chdir /");
    // Under systemd the bounding set is already small; what is left goes now.
    for (int capability = 0; ::prctl(PR_CAPBSET_READ, capability, 0, 0, 0) >= 0; ++capability) {
        if (::prctl(PR_CAPBSET_READ, capability, 0, 0, 0) == 1 &&
            ::prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0) {
            return failure("dropping capability " + std::to_string(capability));
        }
    }
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) {
        return failure("clearing ambient capabilities");
    }
    if (::setgroups(0, nullptr) != 0) return failure("setgroups");
    if (::setresgid(account.gid, account.gid, account.gid) != 0) return failure("setresgid");
    if (::setresuid(account.uid, account.uid, account.uid) != 0) return failure("setresuid");

    uid_t real, effective, saved;
    if (::getresuid(&real, &effective, &saved) != 0 || real != account.uid ||
        effective != account.uid || saved != account.uid || ::setuid(0) == 0 || ::setgid(0) == 0 ||
        has_capabilities()) {
        return totp::make_error(totp::Errc::unsafe, "root privileges were not dropped for good");
    }
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failure("PR_SET_NO_NEW_PRIVS");
    // Set after the uid change, which clears it; checked after setting, so a monitor that
    // died in between is noticed.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) != 0) return failure("PR_SET_PDEATHSIG");
    if (::getppid() != monitor) {
        return totp::make_error(totp::Errc::io, "the monitor exited during start-up");
    }
    return {};
}

void forbid_core_dumps() {
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

}  // namespace resetd
