// SPDX-License-Identifier: Apache-2.0
#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace resetd {
namespace {

constexpr int kSystemdFirstFd = 3;
constexpr int kBacklog = 64;
constexpr mode_t kSocketMode = 0660;

totp::Error failure(const std::string& what) {
    return totp::make_error(totp::Errc::io, what + ": " + std::strerror(errno));
}

bool parse_number(const char* text, long& out) {
    if (text == nullptr) return false;
    const std::string_view view(text);
    const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), out);
    return error == std::errc{} && end == view.data() + view.size();
}

totp::Result<gid_t> group_id(const std::string& name) {
    if (name.empty()) return gid_t{0};
    group entry{};
    group* found = nullptr;
    std::vector<char> buffer(16384);
    if (::getgrnam_r(name.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "listen_group " + name + " does not exist");
    }
    return found->gr_gid;
}

// The socket is replaced, chowned and chmodded by path: every directory on that path, from /
// down, must be a real directory (no symlink) that is root's alone. Then nobody but root can
// swap the socket, or a directory above it, for something else between these steps.
totp::Status check_socket_directory(const std::string& path) {
    const std::string directory = path.substr(0, std::max<std::size_t>(path.rfind('/'), 1));
    for (std::size_t end = 0; end != std::string::npos;) {
        end = directory.find('/', end + 1);
        const std::string step = end == std::string::npos ? directory : directory.substr(0, end);
        const std::string checked = step.empty() ? "/" : step;
        struct stat st {};
        if (::lstat(checked.c_str(), &st) != 0) return failure(checked);
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
            return totp::make_error(totp::Errc::unsafe,
                                    "the listen socket's path goes through " + checked +
                                        ": every directory on it must be a directory (not a "
                                        "symlink) owned by root and not writable by group or "
                                        "other");
        }
    }
    return {};
}

// True if something accepts connections on the socket at `address` (a running instance).
bool in_use(const sockaddr_un& address) {
    const UniqueFd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    return probe.valid() &&
           ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

// A socket left by an earlier run goes; a live one, or anything else at the path, is not
// ours to remove (as a TCP address in use is not).
totp::Status remove_stale_socket(const sockaddr_un& address) {
    const std::string path = address.sun_path;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        return errno == ENOENT ? totp::Status{} : totp::Status(failure(path));
    }
    if (!S_ISSOCK(st.st_mode)) {
        return totp::make_error(totp::Errc::unsafe, path + " exists and is not a socket");
    }
    if (in_use(address)) {
        return totp::make_error(totp::Errc::io, "cannot listen on " + path + ": in use");
    }
    if (::unlink(path.c_str()) != 0) return failure("removing " + path);
    return {};
}

totp::Result<UniqueFd> open_unix_listener(const std::string& path, const std::string& group) {
    const totp::Result<gid_t> gid = group_id(group);
    if (!gid) return gid.error();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
        return totp::make_error(totp::Errc::invalid_argument, "listen socket path too long");
    }
    path.copy(address.sun_path, path.size());
    if (totp::Status safe = check_socket_directory(path); !safe) return safe.error();
    if (totp::Status removed = remove_stale_socket(address); !removed) return removed.error();
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return failure("socket");
    // Nobody may connect before the group and mode are set: bind creates it 0600.
    const mode_t old_mask = ::umask(0177);
    const int bound = ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::umask(old_mask);
    if (bound != 0) return failure("cannot listen on " + path);
    if (::chown(path.c_str(), 0, *gid) != 0 || ::chmod(path.c_str(), kSocketMode) != 0) {
        return failure("setting the owner and mode of " + path);
    }
    if (::listen(fd.get(), kBacklog) != 0) return failure("listen on " + path);
    return fd;
}

}  // namespace

totp::Result<UniqueFd> inherited_listener() {
    long pid = 0, count = 0;
    if (!parse_number(std::getenv("LISTEN_PID"), pid) || pid != ::getpid() ||
        !parse_number(std::getenv("LISTEN_FDS"), count)) {
        return UniqueFd();
    }
    if (count != 1) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "systemd passed " + std::to_string(count) +
                                    " sockets; the socket unit must have exactly one");
    }
    int type = 0;
    socklen_t size = sizeof type;
    if (::getsockopt(kSystemdFirstFd, SOL_SOCKET, SO_TYPE, &type, &size) != 0 ||
        type != SOCK_STREAM) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "the socket systemd passed is not a stream socket");
    }
    ::fcntl(kSystemdFirstFd, F_SETFD, FD_CLOEXEC);
    return UniqueFd(kSystemdFirstFd);
}

totp::Result<UniqueFd> open_listener(const std::string& address, const std::string& group) {
    if (address.starts_with("unix:")) return open_unix_listener(address.substr(5), group);
    const std::size_t colon = address.rfind(':');
    long port = 0;
    std::string host = address.substr(0, colon == std::string::npos ? 0 : colon);
    if (colon == std::string::npos || !parse_number(address.c_str() + colon + 1, port) ||
        port < 1 || port > 65535) {
        return totp::make_error(totp::Errc::invalid_argument, "bad listen address " + address);
    }
    sockaddr_storage storage{};
    socklen_t length = 0;
    if (host.starts_with('[') && host.ends_with(']')) {
        host = host.substr(1, host.size() - 2);
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&storage);
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) length = sizeof *v6;
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        if (::inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) length = sizeof *v4;
    }
    if (length == 0) {
        return totp::make_error(totp::Errc::invalid_argument, "bad listen address " + address);
    }
    UniqueFd fd(::socket(storage.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return failure("socket");
    const int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (storage.ss_family == AF_INET6) {
        ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) != 0) {
        return failure("cannot listen on " + address);
    }
    if (::listen(fd.get(), kBacklog) != 0) return failure("listen on " + address);
    return fd;
}

}  // namespace resetd
