// SPDX-License-Identifier: Apache-2.0
#include "protocol.hpp"

#include <sys/socket.h>

#include <array>
#include <cerrno>

namespace resetd {

Message make_message(std::uint8_t kind, const std::vector<std::string_view>& fields) {
    Message message;
    message.kind = kind;
    for (std::string_view field : fields) message.fields.emplace_back(field);
    return message;
}

std::optional<totp::SecretString> encode(const Message& message) {
    if (message.fields.size() > kMaxFields) return std::nullopt;
    std::size_t size = 1;
    for (const totp::SecretString& field : message.fields) size += 2 + field.size();
    if (size > kMaxMessageSize) return std::nullopt;

    totp::SecretString out;
    const char kind = static_cast<char>(message.kind);
    out.append(std::string_view(&kind, 1));
    for (const totp::SecretString& field : message.fields) {
        const char length[2] = {static_cast<char>(field.size() & 0xff),
                                static_cast<char>(field.size() >> 8)};
        out.append(std::string_view(length, 2));
        out.append(field.view());
    }
    return out;
}

std::optional<Message> decode(std::string_view bytes) {
    if (bytes.empty() || bytes.size() > kMaxMessageSize) return std::nullopt;
    Message message;
    message.kind = static_cast<std::uint8_t>(bytes[0]);
    bytes.remove_prefix(1);
    while (!bytes.empty()) {
        if (bytes.size() < 2 || message.fields.size() >= kMaxFields) return std::nullopt;
        const std::size_t length = static_cast<std::uint8_t>(bytes[0]) |
                                   static_cast<std::size_t>(static_cast<std::uint8_t>(bytes[1]))
                                       << 8;
        bytes.remove_prefix(2);
        if (length > bytes.size()) return std::nullopt;
        message.fields.emplace_back(bytes.substr(0, length));
        bytes.remove_prefix(length);
    }
    return message;
}

bool send_message(int fd, const Message& message) {
    const std::optional<totp::SecretString> bytes = encode(message);
    if (!bytes) return false;
    ssize_t sent;
    do {
        sent = ::send(fd, bytes->c_str(), bytes->size(), MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent == static_cast<ssize_t>(bytes->size());
}

std::optional<Message> receive_message(int fd) {
    // One byte more than the largest message: a larger datagram shows up as MSG_TRUNC.
    std::array<char, kMaxMessageSize + 1> buffer{};
    msghdr header{};
    iovec vector{buffer.data(), buffer.size()};
    header.msg_iov = &vector;
    header.msg_iovlen = 1;
    ssize_t got;
    do {
        got = ::recvmsg(fd, &header, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    std::optional<Message> message;
    if (got > 0 && (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0) {
        message = decode(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
    }
    totp::wipe(buffer.data(), buffer.size());
    return message;
}

}  // namespace resetd
