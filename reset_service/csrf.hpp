// SPDX-License-Identifier: Apache-2.0
// CSRF protection for every form: a signed double-submit token. The browser holds a random
// value in a SameSite=Strict cookie; each form carries HMAC-SHA256(key, cookie) in a hidden
// field. A POST is accepted only when the field matches the cookie's HMAC (constant time).
// Another site can neither read the cookie nor, without the web process's key, forge the
// field for a cookie it planted. The key lives only in the web process's memory, so a
// restart expires every open form (the page says to start again).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace resetd {

inline constexpr std::size_t kCsrfHexLength = 64;

class CsrfGuard {
  public:
    // A guard with a fresh random key; nullopt if the CSPRNG fails.
    static std::optional<CsrfGuard> create();
    ~CsrfGuard();
    CsrfGuard(CsrfGuard&& other) noexcept;
    CsrfGuard& operator=(CsrfGuard&&) = delete;
    CsrfGuard(const CsrfGuard&) = delete;
    CsrfGuard& operator=(const CsrfGuard&) = delete;

    // The request's cookie when it is well-formed, else a new random one (empty if the
    // CSPRNG failed).
    std::string cookie_for(std::string_view request_cookie) const;
    // The hidden field value for a cookie.
    std::string field_for(std::string_view cookie) const;
    // Both present, well-formed and matching.
    bool check(std::string_view cookie, std::string_view field) const;

  private:
    CsrfGuard() = default;
    std::array<std::uint8_t, 32> key_{};
};

// 64 lowercase hex digits.
bool is_csrf_value(std::string_view text);

}  // namespace resetd
