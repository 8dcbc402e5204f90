// SPDX-License-Identifier: Apache-2.0
#include "totp/translation.hpp"

#include <libintl.h>

namespace totp {
namespace {

// `text` with its first `placeholder` replaced by `value`; a translation may leave it out.
std::string filled(std::string text, std::string_view placeholder, std::string_view value) {
    if (const std::size_t at = text.find(placeholder); at != std::string::npos) {
        text.replace(at, placeholder.size(), value);
    }
    return text;
}

}  // namespace

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
    return filled(::dngettext(kTextDomain, singular, plural, count), "%d", std::to_string(count));
}

std::string translate_filled(const char* text, std::string_view value) {
    return filled(translate(text), "%s", value);
}

}  // namespace totp
