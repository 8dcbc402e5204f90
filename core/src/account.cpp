// SPDX-License-Identifier: Apache-2.0
#include "totp/account.hpp"

#include <grp.h>
#include <pwd.h>
#include <shadow.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <type_traits>
#include <vector>

namespace totp {
namespace {

constexpr std::size_t kFirstLookupBuffer = 4096;
constexpr std::size_t kMaxLookupBuffer = 1 << 20;
constexpr const char* kPasswdFile = "/etc/passwd";
constexpr int kMaxGroups = 65536;

// getpwnam_r(3) and its kin: "not found" is a null result with 0 or one of these errors.
bool means_absent(int error) {
    return error == 0 || error == ENOENT || error == ESRCH || error == EBADF || error == EPERM;
}

// Runs one reentrant NSS lookup, call(&entry, buffer, size, &found), with a buffer that
// grows on ERANGE, and turns the entry into a value while the buffer still holds its
// strings. Errc::not_found: no such `kind`; Errc::io: the lookup failed.
template <class Entry, class Call, class Convert>
auto nss_lookup(const char* kind, const std::string& name, Call&& call, Convert&& convert)
    -> Result<std::invoke_result_t<Convert, const Entry&>> {
    std::vector<char> buffer(kFirstLookupBuffer);
    for (;;) {
        Entry entry{};
        Entry* found = nullptr;
        const int error = call(&entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < kMaxLookupBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (found == nullptr && means_absent(error)) {
            return make_error(Errc::not_found, std::string("no such ") + kind + ": " + name);
        }
        if (found == nullptr || error != 0) {
            return make_error(Errc::io, std::string("cannot look up ") + kind + " " + name + ": " +
                                            std::strerror(error != 0 ? error : EIO));
        }
        return convert(entry);
    }
}

Account to_account(const passwd& entry) {
    return Account{entry.pw_name != nullptr ? entry.pw_name : "", entry.pw_uid, entry.pw_gid,
                   entry.pw_dir != nullptr ? entry.pw_dir : "",
                   entry.pw_shell != nullptr ? entry.pw_shell : ""};
}

// Runs an enumeration, next(&entry, buffer, size, &found) (fgetpwent_r, getpwent_r), to its
// end, handing each entry to `use` while the buffer still holds its strings. A read error
// must not look like the end: an entry after it would go unseen.
template <class Next, class Use>
Status for_each_entry(const char* source, Next&& next, Use&& use) {
    std::vector<char> buffer(kFirstLookupBuffer);
    for (;;) {
        passwd entry{};
        passwd* found = nullptr;
        const int error = next(&entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < kMaxLookupBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error == ENOENT) return {};  // the end
        if (error != 0 || found == nullptr) {
            return make_error(Errc::io, std::string("cannot read ") + source + ": " +
                                            std::strerror(error != 0 ? error : EIO));
        }
        use(entry);
    }
}

Result<gid_t> find_group(const std::string& name) {
    return nss_lookup<group>(
        "group", name,
        [&name](group* entry, char* buffer, std::size_t size, group** found) {
            return ::getgrnam_r(name.c_str(), entry, buffer, size, found);
        },
        [](const group& entry) { return entry.gr_gid; });
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

bool is_locked_hash(const char* hash) {
    return hash == nullptr || hash[0] == '!' || hash[0] == '*';
}

}  // namespace

Result<Account> find_account(std::string_view name) {
    const std::string key(name);
    return nss_lookup<passwd>(
        "user", key,
        [&key](passwd* entry, char* buffer, std::size_t size, passwd** found) {
            return ::getpwnam_r(key.c_str(), entry, buffer, size, found);
        },
        to_account);
}

Result<Account> find_account(uid_t uid) {
    return nss_lookup<passwd>(
        "user", "uid " + std::to_string(uid),
        [uid](passwd* entry, char* buffer, std::size_t size, passwd** found) {
            return ::getpwuid_r(uid, entry, buffer, size, found);
        },
        to_account);
}

Result<std::vector<std::string>> local_names_of(uid_t uid) {
    const std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(kPasswdFile, "re"), std::fclose);
    if (!file) {
        return make_error(Errc::io,
                          std::string("cannot read ") + kPasswdFile + ": " + std::strerror(errno));
    }
    std::vector<std::string> names;
    const Status read = for_each_entry(
        kPasswdFile,
        [&file](passwd* entry, char* buffer, std::size_t size, passwd** found) {
            return ::fgetpwent_r(file.get(), entry, buffer, size, found);
        },
        [&](const passwd& entry) {
            if (entry.pw_uid == uid && entry.pw_name != nullptr) names.emplace_back(entry.pw_name);
        });
    if (!read) return read.error();
    return names;
}

Result<std::vector<Account>> all_accounts() {
    // getpwent keeps one position per process: rewound here, closed on every way out.
    struct Enumeration {
        Enumeration() { ::setpwent(); }
        ~Enumeration() { ::endpwent(); }
        Enumeration(const Enumeration&) = delete;
        Enumeration& operator=(const Enumeration&) = delete;
    } const enumeration;
    std::vector<Account> accounts;
    const Status read = for_each_entry(
        "the user database",
        [](passwd* entry, char* buffer, std::size_t size, passwd** found) {
            return ::getpwent_r(entry, buffer, size, found);
        },
        [&](const passwd& entry) { accounts.push_back(to_account(entry)); });
    if (!read) return read.error();
    return accounts;
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

Result<PasswordStatus> find_password_status(std::string_view name) {
    const std::string key(name);
    return nss_lookup<spwd>(
        "shadow entry", key,
        [&key](spwd* entry, char* buffer, std::size_t size, spwd** found) {
            return ::getspnam_r(key.c_str(), entry, buffer, size, found);
        },
        [](const spwd& entry) {
            return PasswordStatus{is_locked_hash(entry.sp_pwdp), entry.sp_expire};
        });
}

uid_t read_uid_min(const std::string& login_defs) {
    std::ifstream in(login_defs);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string key;
        std::string value;
        if (!(words >> key >> value) || key != "UID_MIN") continue;
        uid_t uid = 0;
        const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), uid);
        if (error == std::errc{} && end == value.data() + value.size()) return uid;
    }
    return kDefaultUidMin;
}

}  // namespace totp
