// SPDX-License-Identifier: Apache-2.0
#include "csrf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "totp/secret.hpp"

namespace resetd {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string to_hex(const std::uint8_t* bytes, std::size_t size) {
    std::string hex;
    hex.reserve(2 * size);
    for (std::size_t i = 0; i < size; ++i) {
        hex += kHex[bytes[i] >> 4];
        hex += kHex[bytes[i] & 0x0f];
    }
    return hex;
}

}  // namespace

bool is_csrf_value(std::string_view text) {
    if (text.size() != kCsrfHexLength) return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
}

std::optional<CsrfGuard> CsrfGuard::create() {
    CsrfGuard guard;
    if (!totp::random_bytes(guard.key_.data(), guard.key_.size())) return std::nullopt;
    return guard;
}

CsrfGuard::~CsrfGuard() {
    totp::wipe(key_.data(), key_.size());
}

CsrfGuard::CsrfGuard(CsrfGuard&& other) noexcept : key_(other.key_) {
    totp::wipe(other.key_.data(), other.key_.size());
}

std::string CsrfGuard::cookie_for(std::string_view request_cookie) const {
    if (is_csrf_value(request_cookie)) return std::string(request_cookie);
    std::array<std::uint8_t, kCsrfHexLength / 2> random{};
    if (!totp::random_bytes(random.data(), random.size())) return {};
    return to_hex(random.data(), random.size());
}

std::string CsrfGuard::field_for(std::string_view cookie) const {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
             reinterpret_cast<const unsigned char*>(cookie.data()), cookie.size(), mac.data(),
             &size) == nullptr) {
        return {};
    }
    return to_hex(mac.data(), size);
}

bool CsrfGuard::check(std::string_view cookie, std::string_view field) const {
    if (!is_csrf_value(cookie) || !is_csrf_value(field)) return false;
    const std::string expected = field_for(cookie);
    return expected.size() == field.size() &&
           CRYPTO_memcmp(expected.data(), field.data(), field.size()) == 0;
}

}  // namespace resetd
