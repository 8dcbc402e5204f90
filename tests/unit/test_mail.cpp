// SPDX-License-Identifier: Apache-2.0
// Outgoing mail (core/mail) without a network: the exact message build_message makes,
// refusals of header injection and bad bodies, address validation, and the [reset] SMTP
// settings with their password-file checks. Delivery over SMTP is tested in tests/mail/.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

using totp::MailMessage;
using totp::MailSettings;

namespace {

constexpr std::int64_t kNow = 1'700'000'000;  // Tue, 14 Nov 2023 22:13:20 +0000

using Problems = std::vector<totp::ConfigProblem>;

MailMessage sample_message() {
    MailMessage message;
    message.to = "alice@example.net";
    message.subject = "Your verification code";
    message.text_body = "Hello\nCode: 123456\n";
    message.html_body = "<p>Hello</p>\n";
    return message;
}

std::string build(const MailMessage& message, const MailSettings& settings = {}) {
    auto built = totp::build_message(settings, message, kNow);
    if (!built) {
        print_error("build_message: %s\n", built.error().message.c_str());
        fail();
    }
    return *built;
}

void expect_invalid(const MailMessage& message, const MailSettings& settings = {}) {
    const auto built = totp::build_message(settings, message, kNow);
    if (built) {
        print_error("accepted: to='%s' subject='%s' from='%s'\n", message.to.c_str(),
                    message.subject.c_str(), settings.from.c_str());
        fail();
    }
    assert_int_equal(built.error().code, totp::Errc::invalid_argument);
}

// The value of the header line `name` (unfolded: continuation lines keep their CRLF).
std::string header(const std::string& mail, const std::string& name) {
    const std::string head = mail.substr(0, mail.find("\r\n\r\n") + 2);
    const std::size_t start = head.starts_with(name + ": ") ? 0 : head.find("\r\n" + name + ": ");
    if (start == std::string::npos) return {};
    const std::size_t value = head.find(": ", start) + 2;
    std::size_t end = head.find("\r\n", value);
    while (end + 2 < head.size() && head[end + 2] == ' ') end = head.find("\r\n", end + 2);
    return head.substr(value, end - value);
}

std::string body_of(const std::string& mail) {
    return mail.substr(mail.find("\r\n\r\n") + 4);
}

std::string text_only_body(std::string_view text) {
    MailMessage message = sample_message();
    message.text_body = text;
    message.html_body.clear();
    return body_of(build(message));
}

std::string base64_decode(std::string_view text) {
    std::string out(text.size(), '\0');
    const int length =
        EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                        reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
    assert_true(length >= 0);
    out.resize(std::size_t(length));
    while (text.ends_with('=')) {  // EVP_DecodeBlock keeps the padding's zero bytes
        text.remove_suffix(1);
        out.pop_back();
    }
    return out;
}

// Decodes a header value made only of RFC 2047 B-words; checks each word and line length.
std::string decode_encoded_words(const std::string& value) {
    std::string decoded;
    std::size_t start = 0;
    while (start < value.size()) {
        while (value.compare(start, 3, "\r\n ") == 0 || value[start] == ' ') {
            start += value[start] == ' ' ? 1 : 3;
        }
        assert_true(value.compare(start, 10, "=?UTF-8?B?") == 0);
        const std::size_t end = value.find("?=", start + 10);
        assert_true(end != std::string::npos);
        assert_true(end + 2 - start <= 75);  // RFC 2047 2: an encoded word is at most 75
        const std::string chunk = base64_decode(value.substr(start + 10, end - start - 10));
        // A word never starts inside a UTF-8 sequence.
        assert_true(chunk.empty() || (static_cast<unsigned char>(chunk[0]) & 0xc0) != 0x80);
        decoded += chunk;
        start = end + 2;
    }
    return decoded;
}

// Every line ends in CRLF, no CR or LF stands alone, no line is longer than 78.
void expect_well_formed_lines(const std::string& mail) {
    assert_true(mail.ends_with("\r\n"));
    std::size_t start = 0;
    while (start < mail.size()) {
        const std::size_t end = mail.find("\r\n", start);
        assert_true(end != std::string::npos);
        const std::string_view line(mail.data() + start, end - start);
        assert_true(line.find('\r') == std::string_view::npos);
        assert_true(line.find('\n') == std::string_view::npos);
        if (line.size() > 78) {
            print_error("line longer than 78: %.*s\n", int(line.size()), line.data());
            fail();
        }
        start = end + 2;
    }
}

// --- The message -------------------------------------------------------------------------

void multipart_message_is_exactly_as_documented(void**) {
    const std::string mail = build(sample_message());
    const std::string id = header(mail, "Message-ID");
    const std::string expected =
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        "From: pam_totp <root@localhost>\r\n"
        "To: alice@example.net\r\n"
        "Subject: Your verification code\r\n"
        "Message-ID: " +
        id +
        "\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: multipart/alternative; boundary=\"=_pam_totp_alternative\"\r\n"
        "\r\n"
        "--=_pam_totp_alternative\r\n"
        "Content-Type: text/plain; charset=\"utf-8\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Hello\r\n"
        "Code: 123456\r\n"
        "\r\n"
        "--=_pam_totp_alternative\r\n"
        "Content-Type: text/html; charset=\"utf-8\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "<p>Hello</p>\r\n"
        "\r\n"
        "--=_pam_totp_alternative--\r\n";
    assert_string_equal(mail.c_str(), expected.c_str());
}

void text_only_message_is_a_single_text_part_ending_in_a_line_break(void**) {
    MailMessage message = sample_message();
    message.html_body.clear();
    message.text_body = "Hello\nCode: 123456";  // no final line break
    const std::string mail = build(message);
    const std::string id = header(mail, "Message-ID");
    const std::string expected =
        "Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n"
        "From: pam_totp <root@localhost>\r\n"
        "To: alice@example.net\r\n"
        "Subject: Your verification code\r\n"
        "Message-ID: " +
        id +
        "\r\n"
        "Auto-Submitted: auto-generated\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=\"utf-8\"\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "Hello\r\n"
        "Code: 123456\r\n";
    assert_string_equal(mail.c_str(), expected.c_str());
}

void message_id_is_random_hex_at_the_sender_domain(void**) {
    MailSettings settings;
    settings.from = "Reset <reset@mail.example.org>";
    const std::string first = header(build(sample_message(), settings), "Message-ID");
    const std::string second = header(build(sample_message(), settings), "Message-ID");
    const std::string_view suffix = "@mail.example.org>";
    for (const std::string& id : {first, second}) {
        assert_int_equal(id.size(), 1 + 32 + suffix.size());
        assert_true(id.starts_with('<') && id.ends_with(suffix));
        for (char c : id.substr(1, 32))
            assert_true((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }
    assert_string_not_equal(first.c_str(), second.c_str());
}

void date_header_is_rfc5322_in_utc(void**) {
    const struct {
        std::int64_t time;
        const char* date;
    } cases[] = {
        {0, "Thu, 01 Jan 1970 00:00:00 +0000"},
        {kNow, "Tue, 14 Nov 2023 22:13:20 +0000"},
        {951'782'400, "Tue, 29 Feb 2000 00:00:00 +0000"},
        {1'709'164'800, "Thu, 29 Feb 2024 00:00:00 +0000"},
        {2'147'483'648, "Tue, 19 Jan 2038 03:14:08 +0000"},
        {4'102'444'799, "Thu, 31 Dec 2099 23:59:59 +0000"},
    };
    for (const auto& c : cases) {
        const auto mail = totp::build_message({}, sample_message(), c.time);
        assert_true(mail.ok());
        assert_string_equal(header(*mail, "Date").c_str(), c.date);
    }
    assert_false(totp::build_message({}, sample_message(), -1).ok());
}

// --- Header injection --------------------------------------------------------------------

void line_breaks_in_the_recipient_are_refused(void**) {
    for (const char* to :
         {"alice@example.net\r\nBcc: eve@example.org", "alice@example.net\nBcc: eve@example.org",
          "alice@example.net\r", "alice@example.net\n", "\r\nalice@example.net",
          "alice@example.net\tx", "Alice <alice@example.net>", "alice@example.net, eve@example.org",
          "alice@example.net>"}) {
        MailMessage message = sample_message();
        message.to = to;
        expect_invalid(message);
    }
}

void control_characters_in_the_subject_are_refused(void**) {
    for (std::string subject : {"Code\r\nBcc: eve@example.org", "Code\nBcc: eve@example.org",
                                "Code\r", "Code\tcode", "Code\x7f", "\r\n\r\nbody"}) {
        MailMessage message = sample_message();
        message.subject = subject;
        expect_invalid(message);
    }
    MailMessage message = sample_message();
    message.subject = std::string("Code\0x", 6);
    expect_invalid(message);
}

void line_breaks_in_the_sender_are_refused(void**) {
    for (const char* from : {"pam_totp <root@localhost>\r\nBcc: eve@example.org",
                             "root@localhost\r\nBcc: eve@example.org", "root@localhost\n",
                             "pam\r\n_totp <root@localhost>", "pam_totp\n <root@localhost>",
                             "pam_totp <root@localhost\r\n>"}) {
        MailSettings settings;
        settings.from = from;
        expect_invalid(sample_message(), settings);
    }
}

void injected_text_never_reaches_the_message(void**) {
    // The same text without line breaks is accepted and stays inside its header.
    MailMessage message = sample_message();
    message.subject = "Code Bcc: eve@example.org";
    const std::string mail = build(message);
    assert_true(mail.find("\r\nBcc:") == std::string::npos);
    assert_string_equal(header(mail, "Subject").c_str(), "Code Bcc: eve@example.org");
}

// --- Sender ------------------------------------------------------------------------------

void sender_is_written_as_an_rfc5322_mailbox(void**) {
    const struct {
        const char* setting;
        const char* header;
    } cases[] = {
        {"root@localhost", "root@localhost"},
        {"pam_totp <root@localhost>", "pam_totp <root@localhost>"},
        {"  Example Reset   <reset@example.org>", "Example Reset <reset@example.org>"},
        {"<reset@example.org>", "reset@example.org"},
        {"Example, Inc. <reset@example.org>", "\"Example, Inc.\" <reset@example.org>"},
        {"Grüße <reset@example.org>", "=?UTF-8?B?R3LDvMOfZQ==?= <reset@example.org>"},
    };
    for (const auto& c : cases) {
        MailSettings settings;
        settings.from = c.setting;
        assert_string_equal(header(build(sample_message(), settings), "From").c_str(), c.header);
    }
}

void malformed_senders_are_refused(void**) {
    for (const char* from :
         {"", "pam_totp", "pam_totp <root@localhost", "pam_totp root@localhost>",
          "\"pam_totp\" <root@localhost>", "pam\\totp <root@localhost>", "pam_totp <>",
          "pam_totp <not an address>", "a <b> <root@localhost>", "\xff <root@localhost>",
          "This display name is much longer than sixty-four bytes, so it is refused "
          "<root@localhost>"}) {
        MailSettings settings;
        settings.from = from;
        expect_invalid(sample_message(), settings);
    }
}

// --- Subject -----------------------------------------------------------------------------

void non_ascii_subject_is_rfc2047_encoded(void**) {
    MailMessage message = sample_message();
    message.subject = "Grüße";
    assert_string_equal(header(build(message), "Subject").c_str(), "=?UTF-8?B?R3LDvMOfZQ==?=");
}

void long_subject_is_folded_into_words_that_decode_back(void**) {
    std::string accents;
    for (int i = 0; i < 128; ++i) accents += "é";  // 256 bytes of two-byte characters
    const std::string subjects[] = {
        std::string(70, 'a'), std::string(256, 'b'), accents,
        "Réinitialisation du mot de passe — demandée pour le compte alice sur serveur-01 ☕"};
    for (const std::string& subject : subjects) {
        MailMessage message = sample_message();
        message.subject = subject;
        const std::string mail = build(message);
        expect_well_formed_lines(mail);
        assert_string_equal(decode_encoded_words(header(mail, "Subject")).c_str(), subject.c_str());
    }
}

void ascii_subject_that_looks_encoded_is_encoded(void**) {
    MailMessage message = sample_message();
    message.subject = "=?UTF-8?B?QQ==?=";
    const std::string value = header(build(message), "Subject");
    assert_string_not_equal(value.c_str(), message.subject.c_str());
    assert_string_equal(decode_encoded_words(value).c_str(), message.subject.c_str());
}

void bad_subjects_are_refused(void**) {
    for (std::string subject : {std::string(257, 'a'), std::string("\xc3"), std::string("\xc0\xaf"),
                                std::string("\xed\xa0\x80")}) {
        MailMessage message = sample_message();
        message.subject = subject;
        expect_invalid(message);
    }
}

// --- Bodies ------------------------------------------------------------------------------

void lf_and_crlf_line_endings_both_become_crlf(void**) {
    assert_string_equal(text_only_body("a\nb\r\nc\n\nd\r\n").c_str(), "a\r\nb\r\nc\r\n\r\nd\r\n");
}

void bare_cr_nul_and_invalid_utf8_in_a_body_are_refused(void**) {
    for (std::string body :
         {std::string("a\rb"), std::string("line\r"), std::string("\r\r\n"), std::string("a\0b", 3),
          std::string("\xff\xfe"), std::string(256 * 1024 + 1, 'a')}) {
        MailMessage text = sample_message();
        text.text_body = body;
        expect_invalid(text);
        MailMessage html = sample_message();
        html.html_body = body;
        expect_invalid(html);
    }
}

void long_lines_are_soft_wrapped_at_76_columns(void**) {
    const std::string body = text_only_body(std::string(200, 'x') + "\n");
    assert_string_equal(body.c_str(), (std::string(75, 'x') + "=\r\n" + std::string(75, 'x') +
                                       "=\r\n" + std::string(50, 'x') + "\r\n")
                                          .c_str());
    // An encoded byte is never split by a soft break.
    const std::string encoded = text_only_body(std::string(74, 'x') + "é\n");
    assert_string_equal(encoded.c_str(), (std::string(74, 'x') + "=\r\n=C3=A9\r\n").c_str());
}

void non_ascii_equals_and_trailing_whitespace_are_quoted_printable(void**) {
    assert_string_equal(text_only_body("Grüße = ok \nend\t\n\ttab inside\n").c_str(),
                        "Gr=C3=BC=C3=9Fe =3D ok=20\r\nend=09\r\n\ttab inside\r\n");
}

void leading_dots_are_left_for_libcurl_to_stuff(void**) {
    // libcurl dot-stuffs SMTP uploads; tests/mail proves such lines arrive intact.
    assert_string_equal(text_only_body(".\n.hidden\n..two\n").c_str(), ".\r\n.hidden\r\n..two\r\n");
}

void boundary_cannot_occur_in_a_part(void**) {
    MailMessage message = sample_message();
    message.text_body = "--=_pam_totp_alternative\n--=_pam_totp_alternative--\n";
    const std::string mail = build(message);
    assert_true(mail.find("\r\n--=3D_pam_totp_alternative\r\n") != std::string::npos);
    // Exactly two delimiters and one close delimiter.
    std::size_t count = 0;
    for (std::size_t at = mail.find("\r\n--=_pam_totp_alternative"); at != std::string::npos;
         at = mail.find("\r\n--=_pam_totp_alternative", at + 1)) {
        ++count;
    }
    assert_int_equal(count, 3);
}

void every_line_of_a_demanding_message_is_crlf_and_short(void**) {
    MailMessage message = sample_message();
    message.subject = "Réinitialisation — " + std::string(100, 's');
    message.text_body = std::string(500, 't') + "\r\n" + std::string(100, ' ') + "\n\n☕☕☕\n.";
    message.html_body = "<p>" + std::string(300, 'h') + "</p>\r\n";
    MailSettings settings;
    settings.from = "Ünïcödé Sender <reset@example.org>";
    expect_well_formed_lines(build(message, settings));
}

// --- Addresses ---------------------------------------------------------------------------

void address_validation_table(void**) {
    const std::string local64(64, 'l');
    const std::string label63(63, 'd');
    const std::string long_domain =
        label63 + "." + label63 + "." + label63 + "." + std::string(60, 'd');
    const std::string good[] = {
        "a@b",
        "alice@example.net",
        "first.last+tag@sub.example.co.uk",
        "o'brien@example.ie",
        "root@localhost",
        "x_y-z=w@host-1.example",
        local64 + "@example.org",
        "a@" + label63 + ".example",
        "a@" + long_domain,  // 2 + 252 = 254 bytes
    };
    for (const std::string& address : good) {
        if (!totp::validate_address(address)) {
            print_error("refused '%s'\n", address.c_str());
            fail();
        }
    }
    const std::string bad[] = {
        "",
        "@",
        "alice",
        "alice@",
        "@example.net",
        "a@@example.net",
        "a@b@example.net",
        "a b@example.net",
        "alice@exa mple.net",
        "alice@example.net ",
        "alice@example.net\r\n",
        "ali\nce@example.net",
        "<alice@example.net>",
        "alice@example.net>",
        "a,b@example.net",
        "a;b@example.net",
        "\"a\"@example.net",
        "a\\b@example.net",
        "a(comment)@example.net",
        ".alice@example.net",
        "alice.@example.net",
        "ali..ce@example.net",
        "alice@-example.net",
        "alice@example-.net",
        "alice@example..net",
        "alice@.example.net",
        "alice@example.net.",
        "alice@[127.0.0.1]",
        "alice@exa_mple.net",
        "älice@example.net",
        "alice@exämple.net",
        local64 + "l@example.org",
        "a@" + std::string(64, 'd') + ".example",
        "ab@" + long_domain,  // 255 bytes
    };
    for (const std::string& address : bad) {
        const totp::Status status = totp::validate_address(address);
        if (status) {
            print_error("accepted '%s'\n", address.c_str());
            fail();
        }
        assert_int_equal(status.error().code, totp::Errc::invalid_argument);
    }
}

// --- Settings ----------------------------------------------------------------------------

class TempDir {
  public:
    TempDir() {
        char pattern[] = "/tmp/totp-mail-test-XXXXXX";
        assert_non_null(::mkdtemp(pattern));
        path_ = pattern;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::string path(const std::string& name) const { return path_ + "/" + name; }

    std::string write(const std::string& name, const std::string& content,
                      mode_t mode = 0600) const {
        const std::string file = path(name);
        const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        assert_true(fd >= 0);
        assert_int_equal(::write(fd, content.data(), content.size()), ssize_t(content.size()));
        assert_int_equal(::fchmod(fd, mode), 0);
        ::close(fd);
        return file;
    }

  private:
    std::string path_;
};

void skip_unless_root() {
    if (::geteuid() != 0) skip();  // the config and password files must be root-owned
}

struct Loaded {
    MailSettings settings;
    Problems problems;
};

Loaded load(const TempDir& dir, const std::string& config) {
    Loaded loaded;
    totp::load_mail_settings(dir.write("pam_totp.conf", config), loaded.settings, loaded.problems);
    return loaded;
}

void expect_no_problems(const Problems& problems) {
    for (const auto& problem : problems) print_error("problem: %s\n", problem.message.c_str());
    assert_true(problems.empty());
}

void expect_defaults(const MailSettings& settings) {
    const MailSettings defaults;
    assert_string_equal(settings.smtp_url.c_str(), defaults.smtp_url.c_str());
    assert_int_equal(settings.starttls, defaults.starttls);
    assert_string_equal(settings.smtp_user.c_str(), defaults.smtp_user.c_str());
    assert_string_equal(settings.smtp_password_file.c_str(), defaults.smtp_password_file.c_str());
    assert_string_equal(settings.ca_file.c_str(), defaults.ca_file.c_str());
    assert_string_equal(settings.from.c_str(), defaults.from.c_str());
    assert_int_equal(settings.timeout_seconds, defaults.timeout_seconds);
    assert_int_equal(settings.retries, defaults.retries);
}

void mail_defaults_are_the_safe_choices(void**) {
    const MailSettings settings;
    assert_string_equal(settings.smtp_url.c_str(), "smtp://localhost:25");
    assert_int_equal(settings.starttls, totp::StartTls::required);
    assert_true(settings.smtp_user.empty());
    assert_true(settings.smtp_password_file.empty());
    assert_true(settings.ca_file.empty());
    assert_string_equal(settings.from.c_str(), "pam_totp <root@localhost>");
    assert_int_equal(settings.timeout_seconds, 15);
    assert_int_equal(settings.retries, 2);
}

void every_mail_key_is_read_from_reset(void**) {
    skip_unless_root();
    const TempDir dir;
    const std::string password = dir.write("smtp-password", "s3cret\n", 0600);
    const Loaded loaded = load(dir,
                               "[reset]\n"
                               "smtp_url = smtps://mail.example.org:465\n"
                               "smtp_starttls = optional\n"
                               "smtp_user = mailer@example.org\n"
                               "smtp_password_file = " +
                                   password +
                                   "\n"
                                   "smtp_ca_file = /etc/ssl/certs/example.pem\n"
                                   "mail_from = Example Reset <reset@example.org>\n"
                                   "smtp_timeout = 300\n"
                                   "smtp_retries = 0\n");
    expect_no_problems(loaded.problems);
    assert_string_equal(loaded.settings.smtp_url.c_str(), "smtps://mail.example.org:465");
    assert_int_equal(loaded.settings.starttls, totp::StartTls::optional);
    assert_string_equal(loaded.settings.smtp_user.c_str(), "mailer@example.org");
    assert_string_equal(loaded.settings.smtp_password_file.c_str(), password.c_str());
    assert_string_equal(loaded.settings.ca_file.c_str(), "/etc/ssl/certs/example.pem");
    assert_string_equal(loaded.settings.from.c_str(), "Example Reset <reset@example.org>");
    assert_int_equal(loaded.settings.timeout_seconds, 300);
    assert_int_equal(loaded.settings.retries, 0);
}

void other_keys_and_sections_are_left_to_their_owners(void**) {
    skip_unless_root();
    const TempDir dir;
    // [global] belongs to the module, the other [reset] keys to the reset service.
    const Loaded loaded = load(dir,
                               "[global]\n"
                               "window = 1\n"
                               "[reset]\n"
                               "base_url = https://reset.example.org/\n"
                               "token_lifetime = 900\n");
    expect_no_problems(loaded.problems);
    expect_defaults(loaded.settings);
}

void mail_key_outside_reset_is_refused_and_not_read(void**) {
    skip_unless_root();
    const TempDir dir;
    const Loaded loaded = load(dir,
                               "[global]\n"
                               "smtp_url = smtp://wrong.example.org\n"
                               "[other]\n"
                               "smtp_timeout = 3\n");
    assert_int_equal(loaded.problems.size(), 3);  // two keys and the unknown section
    for (const auto& problem : loaded.problems) assert_true(problem.security_relevant);
    expect_defaults(loaded.settings);
}

void bad_mail_values_are_reported_and_keep_the_defaults(void**) {
    skip_unless_root();
    const struct {
        const char* key;
        const char* value;
        bool security_relevant;
    } cases[] = {
        {"smtp_url", "http://mail.example.org", true},
        {"smtp_url", "smtp://", true},
        {"smtp_url", "smtp://user:pass@mail.example.org", true},
        {"smtp_url", "smtp://mail.example.org/?x=1", true},
        {"smtp_url", "\"smtp://mail.example.org#frag\"", true},  // quoted: # starts a comment
        {"smtp_url", "SMTP://mail.example.org", true},
        {"smtp_url", "mail.example.org", true},
        {"smtp_starttls", "yes", true},
        {"smtp_starttls", "never", true},
        {"smtp_ca_file", "relative/ca.pem", true},
        {"smtp_password_file", "relative/password", true},
        {"mail_from", "not an address", false},
        {"mail_from", "Name <a@b", false},
        {"smtp_timeout", "0", false},
        {"smtp_timeout", "301", false},
        {"smtp_timeout", "ten", false},
        {"smtp_retries", "6", false},
        {"smtp_retries", "-1", false},
    };
    for (const auto& c : cases) {
        const TempDir dir;
        const Loaded loaded = load(dir, std::string("[reset]\n") + c.key + " = " + c.value + "\n");
        if (loaded.problems.size() != 1) {
            print_error("%s = %s: %zu problems\n", c.key, c.value, loaded.problems.size());
            fail();
        }
        assert_true(
            loaded.problems[0].message.starts_with("bad value for '" + std::string(c.key) + "'"));
        assert_int_equal(loaded.problems[0].security_relevant, c.security_relevant);
        expect_defaults(loaded.settings);
    }
}

void password_file_is_accepted_only_if_root_owned_regular_and_private(void**) {
    skip_unless_root();
    const TempDir dir;
    const std::string good = dir.write("good", "s3cret\n", 0600);
    const std::string readonly = dir.write("readonly", "s3cret\n", 0400);
    for (const std::string& file : {good, readonly}) {
        const Loaded loaded =
            load(dir, "[reset]\nsmtp_user = mailer\nsmtp_password_file = " + file + "\n");
        expect_no_problems(loaded.problems);
        assert_string_equal(loaded.settings.smtp_password_file.c_str(), file.c_str());
    }

    const std::string foreign = dir.write("foreign", "s3cret\n", 0600);
    assert_int_equal(::chown(foreign.c_str(), 1234, 1234), 0);
    const std::string link = dir.path("link");
    assert_int_equal(::symlink(good.c_str(), link.c_str()), 0);
    const std::string directory = dir.path("directory");
    assert_int_equal(::mkdir(directory.c_str(), 0700), 0);
    const struct {
        std::string path;
        const char* reason;
    } refused[] = {
        {dir.write("group-readable", "s3cret\n", 0640), "group or other"},
        {dir.write("other-readable", "s3cret\n", 0604), "group or other"},
        {dir.write("group-writable", "s3cret\n", 0620), "group or other"},
        {foreign, "not owned by root"},
        {link, "symlink"},
        {directory, "not a regular file"},
        {dir.path("missing"), "No such file"},
        {dir.write("empty", "\nsecond line\n", 0600), "empty"},
        {dir.write("huge", std::string(5000, 'p'), 0600), "4 KiB"},
    };
    for (const auto& r : refused) {
        const Loaded loaded =
            load(dir, "[reset]\nsmtp_user = mailer\nsmtp_password_file = " + r.path + "\n");
        // The refused file, then: smtp_user without a password file.
        assert_int_equal(loaded.problems.size(), 2);
        const std::string& message = loaded.problems[0].message;
        if (!message.starts_with("bad value for 'smtp_password_file'") ||
            message.find(r.reason) == std::string::npos) {
            print_error("%s: %s\n", r.path.c_str(), message.c_str());
            fail();
        }
        assert_true(loaded.problems[0].security_relevant);
        assert_true(message.find("s3cret") == std::string::npos);
        assert_true(loaded.settings.smtp_password_file.empty());
    }
}

void user_and_password_file_must_be_set_together(void**) {
    skip_unless_root();
    const TempDir dir;
    const std::string password = dir.write("password", "s3cret\n", 0600);
    for (const std::string& config : {std::string("[reset]\nsmtp_user = mailer\n"),
                                      "[reset]\nsmtp_password_file = " + password + "\n"}) {
        const Loaded loaded = load(dir, config);
        assert_int_equal(loaded.problems.size(), 1);
        assert_true(loaded.problems[0].security_relevant);
        assert_true(loaded.problems[0].message.find("together") != std::string::npos);
    }
}

void config_file_gets_the_same_checks_as_the_module_config(void**) {
    skip_unless_root();
    const TempDir dir;
    const std::string text = "[reset]\nsmtp_timeout = 3\n";
    const std::string writable = dir.write("writable.conf", text, 0664);
    const std::string link = dir.path("link.conf");
    assert_int_equal(::symlink(dir.write("real.conf", text, 0600).c_str(), link.c_str()), 0);
    const struct {
        std::string path;
        const char* reason;
    } refused[] = {
        {writable, "writable by group or other"},
        {link, "symlink"},
        {"relative.conf", "not an absolute path"},
        {dir.path("missing.conf"), "No such file"},  // only the default path may be missing
    };
    for (const auto& r : refused) {
        MailSettings settings;
        Problems problems;
        totp::load_mail_settings(r.path, settings, problems);
        assert_int_equal(problems.size(), 1);
        assert_true(problems[0].security_relevant);
        assert_true(problems[0].message.find(r.reason) != std::string::npos);
        expect_defaults(settings);
    }
}

std::string read_source_file(const std::string& relative) {
    std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "../.." / relative);
    assert_true(in.good());
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// An administrator who uncomments the mail defaults of the shipped file gets the defaults.
void shipped_mail_defaults_uncommented_load_cleanly(void**) {
    skip_unless_root();
    std::istringstream shipped(read_source_file("config/pam_totp.conf"));
    std::string content;
    std::set<std::string> uncommented;
    bool in_reset = false;
    for (std::string line; std::getline(shipped, line);) {
        if (line.starts_with('[')) in_reset = line == "[reset]";
        const std::size_t equals = line.find(" =");
        if (in_reset && line.starts_with('#') && equals != std::string::npos &&
            line.find(' ') == equals) {
            line.erase(0, 1);
            uncommented.insert(line.substr(0, equals - 1));
        }
        content += line + "\n";
    }
    const auto names = totp::mail_setting_names();
    for (std::string_view name : names) assert_true(uncommented.contains(std::string(name)));
    // The rest of [reset] belongs to totp-resetd; nothing else may be there.
    const auto reset_names = totp::reset_setting_names();
    for (const std::string& key : uncommented) {
        assert_true(std::find(names.begin(), names.end(), key) != names.end() ||
                    std::find(reset_names.begin(), reset_names.end(), key) != reset_names.end());
    }

    const TempDir dir;
    const Loaded loaded = load(dir, content);
    expect_no_problems(loaded.problems);
    expect_defaults(loaded.settings);
}

void every_mail_key_is_in_the_manual_page(void**) {
    const std::string manual = read_source_file("docs/pam_totp.conf.5");
    const std::size_t section = manual.find(".SH \"[reset] SETTINGS\"");
    assert_true(section != std::string::npos);
    for (std::string_view name : totp::mail_setting_names()) {
        const std::string item = ".TP\n.B " + std::string(name) + "\n";
        if (manual.find(item, section) == std::string::npos) {
            print_error("%.*s is not documented\n", int(name.size()), name.data());
            fail();
        }
    }
}

// --- send_mail refusals that need no server ----------------------------------------------

void send_mail_refuses_bad_input_before_connecting(void**) {
    MailSettings settings;
    settings.smtp_url = "smtp://127.0.0.1:9";  // never reached
    MailMessage message = sample_message();
    message.to = "alice@example.net\r\nBcc: eve@example.org";
    totp::Status sent = totp::send_mail(settings, message, kNow);
    assert_false(sent.ok());
    assert_int_equal(sent.error().code, totp::Errc::invalid_argument);

    for (const auto& change :
         {+[](MailSettings& s) { s.retries = 6; }, +[](MailSettings& s) { s.timeout_seconds = 0; },
          +[](MailSettings& s) { s.smtp_url = "http://127.0.0.1:9"; },
          +[](MailSettings& s) { s.smtp_user = "mailer"; }}) {
        MailSettings bad = settings;
        change(bad);
        sent = totp::send_mail(bad, sample_message(), kNow);
        assert_false(sent.ok());
        assert_int_equal(sent.error().code, totp::Errc::invalid_argument);
    }
}

void send_mail_rereads_and_rechecks_the_password_file(void**) {
    skip_unless_root();
    const TempDir dir;
    MailSettings settings;
    settings.smtp_url = "smtp://127.0.0.1:9";  // never reached
    settings.smtp_user = "mailer";
    settings.smtp_password_file = dir.write("password", "s3cret\n", 0644);
    const totp::Status sent = totp::send_mail(settings, sample_message(), kNow);
    assert_false(sent.ok());
    assert_int_equal(sent.error().code, totp::Errc::unsafe);
    assert_true(sent.error().message.find("smtp_password_file") != std::string::npos);
    assert_true(sent.error().message.find("s3cret") == std::string::npos);
}

}  // namespace

int main() {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(multipart_message_is_exactly_as_documented),
        cmocka_unit_test(text_only_message_is_a_single_text_part_ending_in_a_line_break),
        cmocka_unit_test(message_id_is_random_hex_at_the_sender_domain),
        cmocka_unit_test(date_header_is_rfc5322_in_utc),
        cmocka_unit_test(line_breaks_in_the_recipient_are_refused),
        cmocka_unit_test(control_characters_in_the_subject_are_refused),
        cmocka_unit_test(line_breaks_in_the_sender_are_refused),
        cmocka_unit_test(injected_text_never_reaches_the_message),
        cmocka_unit_test(sender_is_written_as_an_rfc5322_mailbox),
        cmocka_unit_test(malformed_senders_are_refused),
        cmocka_unit_test(non_ascii_subject_is_rfc2047_encoded),
        cmocka_unit_test(long_subject_is_folded_into_words_that_decode_back),
        cmocka_unit_test(ascii_subject_that_looks_encoded_is_encoded),
        cmocka_unit_test(bad_subjects_are_refused),
        cmocka_unit_test(lf_and_crlf_line_endings_both_become_crlf),
        cmocka_unit_test(bare_cr_nul_and_invalid_utf8_in_a_body_are_refused),
        cmocka_unit_test(long_lines_are_soft_wrapped_at_76_columns),
        cmocka_unit_test(non_ascii_equals_and_trailing_whitespace_are_quoted_printable),
        cmocka_unit_test(leading_dots_are_left_for_libcurl_to_stuff),
        cmocka_unit_test(boundary_cannot_occur_in_a_part),
        cmocka_unit_test(every_line_of_a_demanding_message_is_crlf_and_short),
        cmocka_unit_test(address_validation_table),
        cmocka_unit_test(mail_defaults_are_the_safe_choices),
        cmocka_unit_test(every_mail_key_is_read_from_reset),
        cmocka_unit_test(other_keys_and_sections_are_left_to_their_owners),
        cmocka_unit_test(mail_key_outside_reset_is_refused_and_not_read),
        cmocka_unit_test(bad_mail_values_are_reported_and_keep_the_defaults),
        cmocka_unit_test(password_file_is_accepted_only_if_root_owned_regular_and_private),
        cmocka_unit_test(user_and_password_file_must_be_set_together),
        cmocka_unit_test(config_file_gets_the_same_checks_as_the_module_config),
        cmocka_unit_test(shipped_mail_defaults_uncommented_load_cleanly),
        cmocka_unit_test(every_mail_key_is_in_the_manual_page),
        cmocka_unit_test(send_mail_refuses_bad_input_before_connecting),
        cmocka_unit_test(send_mail_rereads_and_rechecks_the_password_file),
    };
    return cmocka_run_group_tests(tests, nullptr, nullptr);
}
