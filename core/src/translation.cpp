// SPDX-License-Identifier: Apache-2.0
#include "totp/translation.hpp"

#include <libintl.h>

#include <initializer_list>

namespace totp {
namespace {

// `text` with its `placeholder`s replaced by `values`, in order; a translation may leave one
// out. What a value inserted holds is never replaced.
std::string filled(std::string text, std::string_view placeholder,
                   std::initializer_list<std::string_view> values) {
    std::size_t from = 0;
    for (const std::string_view value : values) {
        const std::size_t at = text.find(placeholder, from);
        if (at == std::string::npos) break;
        text.replace(at, placeholder.size(), value);
        from = at + value.size();
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
    return filled(::dngettext(kTextDomain, singular, plural, count), "%d", {std::to_string(count)});
}

std::string translate_filled(const char* text, std::string_view value) {
    return filled(translate(text), "%s", {value});
}

std::string translate_filled(const char* text, std::string_view first, std::string_view second) {
    return filled(translate(text), "%s", {first, second});
}

}  // namespace totp
