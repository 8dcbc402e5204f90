// SPDX-License-Identifier: Apache-2.0
// The only requests the unprivileged web process can make of the privileged monitor, and
// their answers. One message per SOCK_SEQPACKET datagram:
//   u8 kind, then each field as a u16 length (little-endian) and that many bytes.
// The monitor accepts a request only with exactly its fields, each within its bounds, and
// re-checks every value itself; anything else ends the service.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "totp/file_lock.hpp"
#include "totp/secret.hpp"

namespace resetd {

inline constexpr std::size_t kMaxMessageSize = 8192;
inline constexpr std::size_t kMaxFields = 8;

// How long the monitor may take to answer one request: the lock waits a request can make
// (four, totp::kLockDeadline each) and pam_unix's 15 s wait for the lock on /etc/shadow.
// Past it the monitor ends itself (stall_guard.hpp) for systemd to restart the service.
inline constexpr std::chrono::seconds kAnswerDeadline =
    4 * std::chrono::duration_cast<std::chrono::seconds>(totp::kLockDeadline) +
    std::chrono::seconds(15);
static_assert(kAnswerDeadline == std::chrono::seconds(35),
              "totp-resetd(8) and the unit's WatchdogSec= are written for 35 s");

enum class Request : std::uint8_t {
    request_reset = 1,  // {client_ip, user}: mail a link if the account may reset
    check_token = 2,    // {client_ip, token}: may this link be used?
    reset = 3,          // {client_ip, token, code, new_password, repeat}: change the password
};

enum class Answer : std::uint8_t {
    accepted = 1,          // request_reset: the same answer for every user name
    token_valid = 2,       // check_token: {user}
    password_changed = 3,  // reset
    token_invalid = 4,     // unknown, expired, used or no longer usable link
    passwords_differ = 5,
    code_wrong = 6,        // wrong or already used code; the link still works
    code_locked = 7,       // too many wrong codes: codes are refused for a while
    password_refused = 8,  // {user, message}: the policy said no before the code was checked
    ip_limited = 9,        // too many requests or failures from this address
    failed = 10,           // something broke on the server; logged there
    password_refused_code_used = 11,  // {user, message...}: PAM said no after the code was used
};

struct Message {
    std::uint8_t kind = 0;
    std::vector<totp::SecretString> fields;

    std::string_view field(std::size_t index) const { return fields[index].view(); }
};

Message make_message(std::uint8_t kind, const std::vector<std::string_view>& fields);

// nullopt if the message would exceed kMaxMessageSize or kMaxFields.
std::optional<totp::SecretString> encode(const Message& message);
// nullopt for anything malformed: truncated, too many fields, trailing bytes.
std::optional<Message> decode(std::string_view bytes);

// Blocking send and receive of one message; false / nullopt when the peer is gone, the
// message is malformed or too large, or (with a receive timeout set on fd) it timed out.
bool send_message(int fd, const Message& message);
std::optional<Message> receive_message(int fd);

}  // namespace resetd
