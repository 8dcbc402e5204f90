// SPDX-License-Identifier: Apache-2.0
// The C++ side of store_plugin.h, for both ends of the boundary: the one mapping between
// totp::Errc and the C status codes, and the sizes both sides must agree on.
#pragma once

#include <cstddef>

#include "totp/result.hpp"
#include "totp/store_plugin.h"
#include "totp/user_state.hpp"
#include "totp/username.hpp"

namespace totp {

inline constexpr std::size_t kStoreKeyBytes = 32;  // AES-256

static_assert(TOTP_STORE_RECORD_MAX == kSlotSize);
static_assert(TOTP_STORE_USER_MAX == kMaxUsernameLength + 1);
static_assert(TOTP_STORE_CANCELLED == 1 + static_cast<int>(Errc::cancelled));
static_assert(TOTP_STORE_INVALID_ARGUMENT == 1 + static_cast<int>(Errc::invalid_argument));

inline totp_store_status to_store_status(Errc code) {
    return static_cast<totp_store_status>(1 + static_cast<int>(code));
}

// A code this build does not know (a newer backend's) is an I/O error: it fails closed.
inline Errc to_errc(totp_store_status status) {
    const int value = static_cast<int>(status);
    if (value < TOTP_STORE_INVALID_ARGUMENT || value > TOTP_STORE_CANCELLED) return Errc::io;
    return static_cast<Errc>(value - 1);
}

}  // namespace totp
