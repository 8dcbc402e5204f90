// SPDX-License-Identifier: Apache-2.0
#include "totp/translation.hpp"

#include <libintl.h>

#include <string_view>

namespace totp {

void bind_catalog() {
    // Only the compiled-in directory: never one named by the environment, which a user
    // controls for setuid programs (su, sudo, totp-enroll).
    static_cast<void>(::bindtextdomain(kTextDomain, TOTP_LOCALE_DIR));
}

const char* translate(const char* text) {
    // gettext's answer for "" is the catalog's header, never a text for users.
    if (*text == '\0') return text;
    return ::dgettext(kTextDomain, text);
}

std::string translate_count(const char* singular, const char* plural, unsigned long count) {
    std::string text = ::dngettext(kTextDomain, singular, plural, count);
    constexpr std::string_view kCount = "%d";
    if (const std::size_t at = text.find(kCount); at != std::string::npos) {
        text.replace(at, kCount.size(), std::to_string(count));
    }
    return text;
}

}  // namespace totp
