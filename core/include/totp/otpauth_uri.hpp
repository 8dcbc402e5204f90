// SPDX-License-Identifier: Apache-2.0
// otpauth:// Key URI (the format authenticator apps scan from QR codes).
#pragma once

#include <string>
#include <string_view>

#include "totp/otp.hpp"
#include "totp/secret.hpp"

namespace totp {

struct KeyUri {
    std::string issuer;   // e.g. "example.org"; may be empty
    std::string account;  // e.g. the user name
    OtpParams params;
};

// otpauth://totp/Issuer:account?secret=...&issuer=Issuer&algorithm=SHA256&digits=8&period=60
// Label and parameter values are percent-encoded (RFC 3986 unreserved characters are kept).
// An issuer with a ':' is left out of the label (readers split the label there) and given
// only as the issuer parameter; the account must not contain one (callers refuse it).
// algorithm, digits and period are always written so apps cannot fall back to defaults.
// Returned as a SecretString because it contains the secret.
SecretString build_key_uri(const KeyUri& uri, const SecretBytes& secret);

std::string percent_encode(std::string_view text);

}  // namespace totp
