// SPDX-License-Identifier: Apache-2.0
#include "totp/otpauth_uri.hpp"

#include <string>

#include "totp/base32.hpp"

namespace totp {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

// The Key URI Format allows no colon inside the label's issuer prefix, and readers split
// the label at the first one: pyotp refuses the URI (the two issuers differ), npm's
// otpauth moves the rest into the account. Such an issuer stays out of the label; the
// issuer parameter, which current readers prefer, carries it whole.
bool fits_label_prefix(std::string_view issuer) {
    return !issuer.empty() && issuer.find(':') == std::string_view::npos;
}

}  // namespace

std::string percent_encode(std::string_view text) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (is_unreserved(byte)) {
            out.push_back(c);
        } else {
            out.push_back('%');
            out.push_back(kHex[byte >> 4]);
            out.push_back(kHex[byte & 0x0f]);
        }
    }
    return out;
}

SecretString build_key_uri(const KeyUri& uri, const SecretBytes& secret) {
    const std::string issuer = percent_encode(uri.issuer);
    SecretString out("otpauth://totp/");
    if (fits_label_prefix(uri.issuer)) {
        out.append(issuer);
        out.append(":");
    }
    out.append(percent_encode(uri.account));
    out.append("?secret=");
    out.append(base32_encode(secret.span()).view());
    if (!issuer.empty()) {
        out.append("&issuer=");
        out.append(issuer);
    }
    out.append("&algorithm=");
    out.append(algorithm_name(uri.params.algorithm));
    out.append("&digits=");
    out.append(std::to_string(uri.params.digits));
    out.append("&period=");
    out.append(std::to_string(uri.params.period));
    return out;
}

}  // namespace totp
