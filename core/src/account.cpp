#include "totp/account.hpp"

#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

namespace totp {
namespace {

constexpr std::size_t kMaxLookupBuffer = 1 << 20;
constexpr const char* kPasswdFile = "/etc/passwd";

// getpwnam_r(3): "not found" is a null result with 0 or one of these errors.
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

Result<std::vector<std::string>> local_names_of(uid_t uid) {
    const std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(kPasswdFile, "re"), std::fclose);
    if (!file) {
        return make_error(Errc::io,
                          std::string("cannot read ") + kPasswdFile + ": " + std::strerror(errno));
    }
    std::vector<std::string> names;
    std::vector<char> buffer(4096);
    for (;;) {
        passwd entry{};
        passwd* found = nullptr;
        const int error = ::fgetpwent_r(file.get(), &entry, buffer.data(), buffer.size(), &found);
        if (error == ERANGE && buffer.size() < kMaxLookupBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (error == ENOENT || found == nullptr) break;  // end of file
        if (error != 0) {
            return make_error(
                Errc::io, std::string("cannot read ") + kPasswdFile + ": " + std::strerror(error));
        }
        if (entry.pw_uid == uid && entry.pw_name != nullptr) names.emplace_back(entry.pw_name);
    }
    return names;
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

}  // namespace totp
