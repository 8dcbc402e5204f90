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

enum class StartTls { required, optional };  // for smtp:// URLs; smtps:// is TLS from the start

struct MailSettings {
    std::string smtp_url = "smtp://localhost:25";  // smtp://host[:port] or smtps://host[:port]
    StartTls starttls = StartTls::required;
    std::string smtp_user;                 // empty: no authentication
    std::string smtp_password_file;        // root-only file holding the password
    std::string ca_file;                   // empty: the system's CA store
    std::string from = "pam_totp <root@localhost>";
    int timeout_seconds = 15;              // connect + transfer, per attempt
    int retries = 2;                       // further attempts after a failed one
};

struct MailMessage {
    std::string to;
    std::string subject;
    std::string text_body;  // plain text part
    std::string html_body;  // HTML part; empty: a text-only message
};

// A single address (local@domain): printable ASCII, no spaces, no CR/LF, no <>,;"\ ,
// exactly one '@', at most 254 bytes.
Status validate_address(std::string_view address);

// Reads the SMTP keys of [reset] (smtp_url, smtp_starttls, smtp_user,
// smtp_password_file, smtp_ca_file, mail_from, smtp_timeout, smtp_retries) with the same
// file checks as load_config_file. Bad values add problems and keep the defaults.
void load_mail_settings(const std::string& config_path, MailSettings& settings,
                        std::vector<ConfigProblem>& problems);

// The complete RFC 5322 message: From, To, Subject, Date, Message-ID, MIME-Version and a
// multipart/alternative body (text + HTML) or a text/plain one; CRLF line endings,
// dot-safe. Errc::invalid_argument if any header value holds CR or LF, an address is
// invalid, or a body holds a bare CR or LF that is not part of a line ending.
Result<std::string> build_message(const MailSettings& settings, const MailMessage& message,
                                  std::int64_t unix_time);

// Builds and sends, retrying up to settings.retries times; the error says what failed
// last (never the password).
Status send_mail(const MailSettings& settings, const MailMessage& message,
                 std::int64_t unix_time);

}  // namespace totp
