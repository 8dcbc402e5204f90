#include "identity.hpp"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace pam_totp {
namespace {

constexpr std::size_t kMaxLookupBuffer = 1 << 20;

std::size_t initial_buffer_size(int name) {
    const long size = sysconf(name);
    return size > 0 ? static_cast<std::size_t>(size) : 4096;
}

}  // namespace

Membership group_membership(const totp::Account& account, const std::string& group) {
    std::vector<char> buffer(initial_buffer_size(_SC_GETGR_R_SIZE_MAX));
    struct group entry {};
    struct group* found = nullptr;
    for (;;) {
        const int rc = getgrnam_r(group.c_str(), &entry, buffer.data(), buffer.size(), &found);
        if (rc == ERANGE && buffer.size() < kMaxLookupBuffer) {
            buffer.resize(buffer.size() * 2);
            continue;
        }
        if (rc != 0 && rc != ENOENT && rc != ESRCH) return Membership::error;
        break;
    }
    if (found == nullptr) return Membership::no_such_group;
    const gid_t wanted = found->gr_gid;

    std::vector<gid_t> groups(32);
    for (;;) {
        int count = static_cast<int>(groups.size());
        if (getgrouplist(account.name.c_str(), account.gid, groups.data(), &count) >= 0) {
            groups.resize(static_cast<std::size_t>(count));
            break;
        }
        if (count <= static_cast<int>(groups.size()) || count > 65536) return Membership::error;
        groups.resize(static_cast<std::size_t>(count));
    }
    for (gid_t gid : groups) {
        if (gid == wanted) return Membership::member;
    }
    return Membership::not_member;
}

}  // namespace pam_totp
