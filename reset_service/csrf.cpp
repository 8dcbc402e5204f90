// SPDX-License-Identifier: Apache-2.0
#include "csrf.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "totp/hex.hpp"
#include "totp/secret.hpp"

namespace resetd {

bool is_csrf_value(std::string_view text) {
    std::array<std::uint8_t, kCsrfHexLength / 2> bytes{};
    return totp::hex_decode(text, bytes, totp::HexLetters::lowercase);
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
    return totp::hex_encode(random);
}

std::string CsrfGuard::field_for(std::string_view cookie) const {
    std::array<std::uint8_t, EVP_MAX_MD_SIZE> mac{};
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
             reinterpret_cast<const unsigned char*>(cookie.data()), cookie.size(), mac.data(),
             &size) == nullptr) {
        return {};
    }
    return totp::hex_encode({mac.data(), size});
}

bool CsrfGuard::check(std::string_view cookie, std::string_view field) const {
    if (!is_csrf_value(cookie) || !is_csrf_value(field)) return false;
    const std::string expected = field_for(cookie);
    return expected.size() == field.size() &&
           CRYPTO_memcmp(expected.data(), field.data(), field.size()) == 0;
}

}  // namespace resetd
