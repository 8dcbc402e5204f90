// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string_view>

#include "totp/result.hpp"

namespace totp {

inline constexpr std::size_t kMaxUsernameLength = 256;

// Refuses names that could escape or confuse a per-user path: empty, longer than
// kMaxUsernameLength bytes, containing '/', starting with '.', or containing a control
// character (bytes below 0x20 and 0x7f). Errc::unsafe with a message on refusal.
Status check_username(std::string_view user);

}  // namespace totp
