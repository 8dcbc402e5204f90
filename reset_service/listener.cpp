// SPDX-License-Identifier: Apache-2.0
#include "listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace resetd {
namespace {

constexpr int kSystemdFirstFd = 3;
constexpr int kBacklog = 64;

totp::Error failure(const std::string& what) {
    return totp::make_error(totp::Errc::io, what + ": " + std::strerror(errno));
}

bool parse_number(const char* text, long& out) {
    if (text == nullptr) return false;
    const std::string_view view(text);
    const auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), out);
    return error == std::errc{} && end == view.data() + view.size();
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

totp::Result<UniqueFd> open_listener(const std::string& address) {
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
