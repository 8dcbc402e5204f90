#include "totp/account.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

namespace totp {
namespace {

constexpr std::size_t kMaxLookupBuffer = 1 << 20;
constexpr int kMaxGroups = 65536;

// getpwnam_r(3), getgrnam_r(3): "not found" is a null result with 0 or one of these errors.
bool means_absent(int error) {
    return error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
}

template <class Lookup>
Result<Account> lookup(Lookup&& call, const std::string& who) {
    const long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
    for (;;) {
        passwd entry{};
        passwd* found = nullptr;
        const int error = call(&entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < kMaxLookupBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (found == nullptr && means_absent(error)) {
            return make_error(Errc::not_found, "no such user: " + who);
        }
        if (found == nullptr || error != 0) {
            return make_error(
                Errc::io, "cannot look up " + who + ": " + std::strerror(error != 0 ? error : EIO));
        }
        return Account{entry.pw_name != nullptr ? entry.pw_name : "", entry.pw_uid, entry.pw_gid,
                       entry.pw_dir != nullptr ? entry.pw_dir : ""};
    }
}

Result<gid_t> find_group(const std::string& name) {
    const long hint = ::sysconf(_SC_GETGR_R_SIZE_MAX);
    std::vector<char> buffer(hint > 0 ? static_cast<std::size_t>(hint) : 4096);
    for (;;) {
        group entry{};
        group* found = nullptr;
        const int error = ::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < kMaxLookupBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (found == nullptr && means_absent(error)) {
            return make_error(Errc::not_found, "no such group: " + name);
        }
        if (found == nullptr || error != 0) {
            return make_error(Errc::io, "cannot look up group " + name + ": " +
                                            std::strerror(error != 0 ? error : EIO));
        }
        return entry.gr_gid;
    }
}

Result<std::vector<gid_t>> groups_of(const Account& account) {
    std::vector<gid_t> groups(32);
    for (;;) {
        int count = static_cast<int>(groups.size());
        if (::getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            return groups;
        }
        if (count <= static_cast<int>(groups.size()) || count > kMaxGroups) {
            return make_error(Errc::io, "cannot list the groups of " + account.name);
        }
        groups.resize(static_cast<std::size_t>(count));
    }
}

}  // namespace

Result<Account> find_account(std::string_view name) {
    const std::string key(name);
    return lookup(
        [&key](passwd* entry, char* buffer, std::size_t size, passwd** found) {
            return ::getpwnam_r(key.c_str(), entry, buffer, size, found);
        },
        key);
}

Result<Account> find_account(uid_t uid) {
    return lookup([uid](passwd* entry, char* buffer, std::size_t size,
                        passwd** found) { return ::getpwuid_r(uid, entry, buffer, size, found); },
                  "uid " + std::to_string(uid));
}

Result<Account> canonical_account(std::string_view typed) {
    Result<Account> named = find_account(typed);
    if (!named) return named;
    Result<Account> owner = find_account(named->uid);
    if (!owner) {
        // NSS knows the name but not its uid: an inconsistent source, not an unknown user.
        return make_error(Errc::io, "user " + std::string(typed) + " has uid " +
                                        std::to_string(named->uid) +
                                        ", which has no account of its own");
    }
    return owner;
}

Result<bool> is_member(const Account& account, std::string_view group_name) {
    const Result<gid_t> wanted = find_group(std::string(group_name));
    if (!wanted) return wanted.error();
    const Result<std::vector<gid_t>> groups = groups_of(account);
    if (!groups) return groups.error();
    return std::find(groups->begin(), groups->end(), *wanted) != groups->end();
}

}  // namespace totp
