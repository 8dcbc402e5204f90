// SPDX-License-Identifier: Apache-2.0
#include "mail_texts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "html.hpp"

namespace resetd {
namespace {

constexpr off_t kMaxTemplateSize = 64 * 1024;

constexpr std::string_view kResetText =
    "Hello {user},\n"
    "\n"
    "someone asked to reset the password of the account \"{user}\" on {site}.\n"
    "If it was you, open this link within {minutes} minutes:\n"
    "\n"
    "{link}\n"
    "\n"
    "You will need the current code from your authenticator app (or a recovery code).\n"
    "\n"
    "If you did not ask for this, ignore this mail: your password stays as it is.\n";

constexpr std::string_view kResetHtml =
    "<!doctype html>\n<html lang=\"en\"><body style=\"font-family:sans-serif;line-height:1.5\">\n"
    "<p>Hello {user},</p>\n"
    "<p>someone asked to reset the password of the account &ldquo;{user}&rdquo; on {site}. "
    "If it was you, open this link within {minutes} minutes:</p>\n"
    "<p><a href=\"{link}\">Choose a new password</a></p>\n"
    "<p>You will need the current code from your authenticator app (or a recovery code).</p>\n"
    "<p>If you did not ask for this, ignore this mail: your password stays as it is.</p>\n"
    "</body></html>\n";

constexpr std::string_view kChangedText =
    "Hello {user},\n"
    "\n"
    "the password of the account \"{user}\" on {site} was changed at {time}\n"
    "through the password reset page (from the address {ip}).\n"
    "\n"
    "If this was not you, contact your administrator now.\n";

constexpr std::string_view kChangedHtml =
    "<!doctype html>\n<html lang=\"en\"><body style=\"font-family:sans-serif;line-height:1.5\">\n"
    "<p>Hello {user},</p>\n"
    "<p>the password of the account &ldquo;{user}&rdquo; on {site} was changed at {time} "
    "through the password reset page (from the address {ip}).</p>\n"
    "<p><strong>If this was not you, contact your administrator now.</strong></p>\n"
    "</body></html>\n";

bool is_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        const auto byte = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        if (byte < 0x80) {
            extra = 0;
        } else if (byte >= 0xc2 && byte <= 0xdf) {
            extra = 1;
        } else if (byte >= 0xe0 && byte <= 0xef) {
            extra = 2;
        } else if (byte >= 0xf0 && byte <= 0xf4) {
            extra = 3;
        } else {
            return false;
        }
        for (std::size_t k = 1; k <= extra; ++k) {
            if (i + k >= text.size() || (static_cast<unsigned char>(text[i + k]) & 0xc0) != 0x80) {
                return false;
            }
        }
        i += extra + 1;
    }
    return true;
}

// Reads `name` from the directory, or leaves `out` alone when there is no such file.
totp::Status read_template(int dir, const std::string& dir_path, const char* name,
                           std::string& out) {
    const std::string path = dir_path + "/" + name;
    const int fd = ::openat(dir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) return {};
        return totp::make_error(totp::Errc::io, path + ": " + std::strerror(errno));
    }
    struct stat st {};
    std::string text;
    std::string problem;
    if (::fstat(fd, &st) != 0) {
        problem = std::strerror(errno);
    } else if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & 022) != 0) {
        problem = "must be a regular file owned by root, not writable by group or other";
    } else if (st.st_size > kMaxTemplateSize) {
        problem = "larger than 64 KiB";
    } else {
        text.resize(static_cast<std::size_t>(st.st_size));
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t got = ::read(fd, text.data() + done, text.size() - done);
            if (got <= 0) {
                if (got < 0 && errno == EINTR) continue;
                problem = "could not be read";
                break;
            }
            done += static_cast<std::size_t>(got);
        }
        if (problem.empty() && !is_utf8(text)) problem = "is not UTF-8 text";
    }
    ::close(fd);
    if (!problem.empty()) return totp::make_error(totp::Errc::unsafe, path + ": " + problem);
    out = std::move(text);
    return {};
}

}  // namespace

MailTexts builtin_mail_texts() {
    return MailTexts{{std::string(kResetText), std::string(kResetHtml)},
                     {std::string(kChangedText), std::string(kChangedHtml)}};
}

totp::Result<MailTexts> load_mail_texts(const std::string& template_dir) {
    MailTexts texts = builtin_mail_texts();
    if (template_dir.empty()) return texts;
    const int dir = ::open(template_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0) {
        return totp::make_error(totp::Errc::io, template_dir + ": " + std::strerror(errno));
    }
    totp::Status status;
    for (auto [name, field] :
         {std::pair{"reset.txt", &texts.reset.text}, std::pair{"reset.html", &texts.reset.html},
          std::pair{"changed.txt", &texts.changed.text},
          std::pair{"changed.html", &texts.changed.html}}) {
        if (status = read_template(dir, template_dir, name, *field); !status) break;
    }
    ::close(dir);
    if (!status) return status.error();
    return texts;
}

totp::SecretString render(std::string_view text, const Placeholders& values, bool html) {
    totp::SecretString out;
    std::size_t i = 0;
    while (i < text.size()) {
        bool replaced = false;
        if (text[i] == '{') {
            for (const auto& [name, value] : values) {
                if (text.substr(i + 1).starts_with(name) &&
                    text.substr(i + 1 + name.size()).starts_with('}')) {
                    if (html) {
                        append_html_escaped(out, value);
                    } else {
                        out.append(value);
                    }
                    i += name.size() + 2;
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out.append(text.substr(i++, 1));
    }
    return out;
}

}  // namespace resetd
