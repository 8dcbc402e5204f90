// SPDX-License-Identifier: Apache-2.0
// Outgoing mail over SMTP (libcurl), shared by totp-enroll (address verification) and
// totp-resetd (reset links, change notices). Settings come from the [reset] section of
// pam_totp.conf.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "totp/config.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"

namespace totp {

// For smtp:// URLs; smtps:// is TLS from the start. With smtp_user set, STARTTLS is
// required whatever this says: credentials never travel in clear text.
enum class StartTls { required, optional };

struct MailSettings {
    std::string smtp_url = "smtp://localhost:25";  // smtp://host[:port] or smtps://host[:port]
    StartTls starttls = StartTls::required;
    std::string smtp_user;                           // empty: no authentication
    std::string smtp_password_file;                  // root-only file holding the password
    std::string ca_file;                             // empty: the system's CA store
    std::string from = "pam_totp <root@localhost>";  // address, or Name <address>
    int timeout_seconds = 15;                        // connect + transfer, per attempt
    int retries = 2;                                 // further attempts after a failed one, 0..5
};

struct MailMessage {
    std::string to;
    std::string subject;
    std::string text_body;  // plain text part
    std::string html_body;  // HTML part; empty: a text-only message
};

// A single address (local@domain): printable ASCII, no spaces, no CR/LF, no <>,;"\ ,
// exactly one '@', at most 254 bytes. Precisely: the local part is an RFC 5322 dot-atom of
// at most 64 bytes, the domain a host name (letters, digits, '-', dot-separated labels).
Status validate_address(std::string_view address);

// Reads the SMTP keys of [reset] (smtp_url, smtp_starttls, smtp_user,
// smtp_password_file, smtp_ca_file, mail_from, smtp_timeout, smtp_retries) with the same
// file checks as load_config_file (a missing file is fine only at kDefaultConfigPath).
// Bad values add problems and keep the defaults; other [reset] keys are not looked at.
// smtp_password_file must be a root-owned regular file, not a symlink, with no group or
// other permissions; smtp_user and smtp_password_file must be set together.
void load_mail_settings(const std::string& config_path, MailSettings& settings,
                        std::vector<ConfigProblem>& problems);

// Every key load_mail_settings reads (for documentation checks).
std::vector<std::string_view> mail_setting_names();

// The complete RFC 5322 message: From, To, Subject, Date, Message-ID, MIME-Version and a
// multipart/alternative body (text + HTML) or a text/plain one; CRLF line endings,
// dot-safe. Errc::invalid_argument if any header value holds CR or LF, an address is
// invalid, or a body holds a bare CR or LF that is not part of a line ending.
//
// Details: the subject is UTF-8 of at most 256 bytes without control characters; unless it
// is ASCII that fits on its line it is sent as RFC 2047 encoded words. The sender's name
// may be UTF-8 too. Body lines end in LF or CRLF (both become CRLF); a CR not followed by LF
// or a NUL is refused; bodies must be UTF-8 (at most 256 KiB) and are sent quoted-printable,
// so no line exceeds 76 columns. A text-only message always ends with a line break. Lines
// starting with '.' are left as they are: libcurl dot-stuffs what it uploads over SMTP.
Result<std::string> build_message(const MailSettings& settings, const MailMessage& message,
                                  std::int64_t unix_time);

// Builds and sends, retrying up to settings.retries times after a failure that may pass
// (connection, timeout, 4xx reply), waiting 0.5 s, 1 s, ... between attempts; a wrong
// password, missing STARTTLS, an untrusted certificate or a 5xx reply is not retried. The
// password is read from smtp_password_file on each call (same checks as at load). The error
// says what failed last and after how many attempts (never the password).
Status send_mail(const MailSettings& settings, const MailMessage& message, std::int64_t unix_time);

}  // namespace totp
