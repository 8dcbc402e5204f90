// SPDX-License-Identifier: Apache-2.0
// Base32 (RFC 4648, section 6).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp {

// Upper-case alphabet, no padding (what authenticator apps expect in otpauth URIs).
SecretString base32_encode(std::span<const std::uint8_t> bytes);

// Case-insensitive; spaces and hyphens are ignored; padding '=' is optional but, when
// present, must be correct and at the end. Anything else is an Errc::invalid_argument
// with a message naming the offending character position (never the secret itself).
Result<SecretBytes> base32_decode(std::string_view text);

}  // namespace totp
