// SPDX-License-Identifier: Apache-2.0
// Texts shown to users (the module's prompts and messages, totp-enroll's questions) in the
// user's language, from the project's own gettext catalog (text domain "pam_totp", in the
// install's locale directory), as Linux-PAM's modules do. The language is the locale the
// program set: nothing here calls setlocale, which inside a PAM module belongs to the
// application. Log lines stay in English.
//
// po/update-pot.sh extracts every literal passed to translate(), translate_count(),
// translate_filled() and N_().
#pragma once

#include <string>
#include <string_view>

// Marks a literal for extraction where it is translated later, by translate(variable).
#define N_(text) text

namespace totp {

inline constexpr const char* kTextDomain = "pam_totp";

// Tells gettext where the catalogs of kTextDomain are installed (idempotent, cheap).
void bind_catalog();

// `text` in the current LC_MESSAGES language, or `text` itself when there is no
// translation.
const char* translate(const char* text);

// `singular` or `plural` as the language's plural rule picks for `count`, translated, with
// its "%d" replaced by `count` (the text is never used as a format string).
std::string translate_count(const char* singular, const char* plural, unsigned long count);

// `text` translated, with its "%s" replaced by `value` (never used as a format string).
std::string translate_filled(const char* text, std::string_view value);
// The same with two "%s", filled in order: a translation keeps their order.
std::string translate_filled(const char* text, std::string_view first, std::string_view second);

}  // namespace totp
