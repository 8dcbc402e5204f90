// SPDX-License-Identifier: Apache-2.0
// The two mails the service sends — the reset link and the "your password was changed"
// notice — as text and HTML templates with {name} placeholders. Built in, or read from
// template_dir (reset.txt, reset.html, changed.txt, changed.html; a missing file keeps the
// built-in text; an empty HTML file sends text only).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace resetd {

struct MailTemplate {
    std::string text;
    std::string html;
};

struct MailTexts {
    MailTemplate reset;    // {site} {user} {link} {minutes}
    MailTemplate changed;  // {site} {user} {time} {ip}
};

MailTexts builtin_mail_texts();

// Files must be regular, not symlinks, owned by root, not writable by group or other,
// UTF-8 text of at most 64 KiB.
totp::Result<MailTexts> load_mail_texts(const std::string& template_dir);

using Placeholders = std::vector<std::pair<std::string_view, std::string_view>>;

// Replaces each {name} by its value (HTML-escaped when `html`); unknown {names} stay as
// they are. A SecretString: the reset mail holds the link.
totp::SecretString render(std::string_view text, const Placeholders& values, bool html);

}  // namespace resetd
