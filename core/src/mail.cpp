// SPDX-License-Identifier: Apache-2.0
#include "totp/mail.hpp"

#include <curl/curl.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <system_error>
#include <thread>

#include "config_file.hpp"
#include "totp/hex.hpp"
#include "totp/text.hpp"
#include "totp/unique_fd.hpp"

namespace totp {
namespace {

constexpr std::size_t kMaxAddressLength = 254;
constexpr std::size_t kMaxLocalPartLength = 64;
constexpr std::size_t kMaxDomainLabelLength = 63;
constexpr std::size_t kMaxSubjectLength = 256;
constexpr std::size_t kMaxDisplayNameLength = 64;
constexpr std::size_t kMaxBodyLength = 256 * 1024;
constexpr std::size_t kMaxUrlLength = 1024;
constexpr std::size_t kMaxUserLength = 256;
constexpr std::size_t kMaxPathLength = 4095;
constexpr std::size_t kMaxPasswordFileSize = 4096;
constexpr std::size_t kMaxHeaderLine = 78;           // RFC 5322 2.1.1, without the CRLF
constexpr std::size_t kMaxQuotedPrintableLine = 76;  // RFC 2045 6.7
// 42 bytes make 56 base64 characters: "=?UTF-8?B?" + 56 + "?=" is 68 columns, so even the
// first encoded word fits after "Subject: " within 78.
constexpr std::size_t kEncodedWordBytes = 42;
// "=_" never occurs in quoted-printable text, so this boundary cannot occur in a part.
constexpr std::string_view kBoundary = "=_pam_totp_alternative";
constexpr int kMinTimeout = 1;
constexpr int kMaxTimeout = 300;
constexpr int kMaxRetries = 5;
constexpr std::chrono::milliseconds kBackoffStep{500};

Error invalid(std::string message) {
    return make_error(Errc::invalid_argument, std::move(message));
}

// --- Text checks -------------------------------------------------------------------------

bool is_ascii(std::string_view text) {
    for (char c : text) {
        if (static_cast<unsigned char>(c) >= 0x80) return false;
    }
    return true;
}

bool is_utf8(std::string_view text) {
    static constexpr std::uint32_t kShortest[] = {0, 0, 0x80, 0x800, 0x10000};
    std::size_t i = 0;
    while (i < text.size()) {
        const auto lead = static_cast<unsigned char>(text[i]);
        std::size_t length = 0;
        std::uint32_t point = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xe0) == 0xc0) {
            length = 2, point = lead & 0x1fu;
        } else if ((lead & 0xf0) == 0xe0) {
            length = 3, point = lead & 0x0fu;
        } else if ((lead & 0xf8) == 0xf0) {
            length = 4, point = lead & 0x07u;
        } else {
            return false;
        }
        if (text.size() - i < length) return false;
        for (std::size_t k = 1; k < length; ++k) {
            const auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xc0) != 0x80) return false;
            point = (point << 6) | (next & 0x3fu);
        }
        if (point < kShortest[length] || point > 0x10ffff || (point >= 0xd800 && point <= 0xdfff)) {
            return false;
        }
        i += length;
    }
    return true;
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 5322 atext.
bool is_atext(char c) {
    return is_alnum(c) || std::string_view("!#$%&'*+-/=?^_`{|}~").find(c) != std::string_view::npos;
}

bool is_dot_atom(std::string_view text) {
    if (text.empty() || text.front() == '.' || text.back() == '.') return false;
    char previous = 0;
    for (char c : text) {
        if (c == '.' ? previous == '.' : !is_atext(c)) return false;
        previous = c;
    }
    return true;
}

bool is_host_name(std::string_view text) {
    if (text.empty()) return false;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('.', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view label = text.substr(start, end - start);
        if (label.empty() || label.size() > kMaxDomainLabelLength || label.front() == '-' ||
            label.back() == '-') {
            return false;
        }
        for (char c : label) {
            if (!is_alnum(c) && c != '-') return false;
        }
        start = end + 1;
    }
    return true;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

// --- Headers -----------------------------------------------------------------------------

struct Mailbox {
    std::string_view display_name;  // may be empty
    std::string_view address;
};

// "address" or "Display Name <address>"; the display name is UTF-8 without quotes,
// backslashes, angle brackets or control characters.
Result<Mailbox> parse_mailbox(std::string_view text) {
    const std::size_t open = text.find('<');
    if (open == std::string_view::npos) {
        if (Status valid = validate_address(text); !valid) return valid.error();
        return Mailbox{{}, text};
    }
    if (!text.ends_with('>')) return invalid("sender must end with '>' after '<'");
    const std::string_view address = text.substr(open + 1, text.size() - open - 2);
    if (Status valid = validate_address(address); !valid) return valid.error();
    const std::string_view name = trim(text.substr(0, open));
    if (name.size() > kMaxDisplayNameLength || has_control(name) || !is_utf8(name) ||
        name.find_first_of("\"\\<>") != std::string_view::npos) {
        return invalid(
            "sender name must be at most 64 bytes of UTF-8 without control characters, "
            "quotes, backslashes or angle brackets");
    }
    return Mailbox{name, address};
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                       reinterpret_cast<const unsigned char*>(bytes.data()),
                                       static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

// RFC 2047 B-encoded words, each at most kEncodedWordBytes of the text and never splitting a
// UTF-8 sequence; a decoder joins adjacent encoded words without the space between them.
std::vector<std::string> encoded_words(std::string_view text) {
    std::vector<std::string> words;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = std::min(start + kEncodedWordBytes, text.size());
        while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xc0) == 0x80) --end;
        words.push_back("=?UTF-8?B?" + base64(text.substr(start, end - start)) + "?=");
        start = end;
    }
    return words;
}

// "Name: word word ...", folded before a word that would pass column 78.
void append_header(std::string& out, std::string_view name, const std::vector<std::string>& words) {
    out += name;
    out += ':';
    std::size_t column = name.size() + 1;
    for (const std::string& word : words) {
        if (column > name.size() + 1 && column + 1 + word.size() > kMaxHeaderLine) {
            out += "\r\n";
            column = 0;
        }
        out += ' ';
        out += word;
        column += 1 + word.size();
    }
    out += "\r\n";
}

// Plain ASCII that fits on its line is written as it is; anything else (non-ASCII, long,
// or text a reader could mistake for an encoded word) as RFC 2047 encoded words.
std::vector<std::string> subject_words(std::string_view subject) {
    const bool plain = is_ascii(subject) && subject.find("=?") == std::string_view::npos &&
                       std::string_view("Subject: ").size() + subject.size() <= kMaxHeaderLine;
    if (plain) return {std::string(subject)};
    return encoded_words(subject);
}

std::vector<std::string> mailbox_words(const Mailbox& mailbox) {
    const std::string address(mailbox.address);
    if (mailbox.display_name.empty()) return {address};
    std::vector<std::string> words;
    const std::string_view name = mailbox.display_name;
    if (!is_ascii(name)) {
        words = encoded_words(name);
    } else if (std::all_of(name.begin(), name.end(),
                           [](char c) { return is_atext(c) || c == ' '; })) {
        words = {std::string(name)};
    } else {
        words = {"\"" + std::string(name) +
                 "\""};  // no '"' or '\' inside: checked by parse_mailbox
    }
    words.push_back("<" + address + ">");
    return words;
}

Result<std::string> rfc5322_date(std::int64_t unix_time) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const auto time = static_cast<std::time_t>(unix_time);
    struct tm utc {};
    if (unix_time < 0 || ::gmtime_r(&time, &utc) == nullptr || utc.tm_year + 1900 > 9999) {
        return invalid("time out of range for a Date header");
    }
    char text[40];
    std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d +0000", kDays[utc.tm_wday],
                  utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                  utc.tm_sec);
    return std::string(text);
}

Result<std::string> message_id(std::string_view from_address) {
    std::array<std::uint8_t, 16> random{};
    if (!random_bytes(random.data(), random.size())) {
        return make_error(Errc::io, "random generator failed");
    }
    std::string id = "<" + hex_encode(random);
    id += from_address.substr(from_address.find('@'));
    id += '>';
    return id;
}

// --- Bodies ------------------------------------------------------------------------------

Status check_body(std::string_view body, std::string_view which) {
    if (body.size() > kMaxBodyLength) return invalid(std::string(which) + " body over 256 KiB");
    for (std::size_t i = 0; i < body.size(); ++i) {
        if (body[i] == '\r' && (i + 1 == body.size() || body[i + 1] != '\n')) {
            return invalid(std::string(which) + " body holds a CR that does not end a line");
        }
        if (body[i] == '\0') return invalid(std::string(which) + " body holds a NUL byte");
    }
    if (!is_utf8(body)) return invalid(std::string(which) + " body is not UTF-8");
    return {};
}

// One line of text (no line ending) as quoted-printable (RFC 2045 6.7): at most 76 columns
// per encoded line, soft breaks as "=" CRLF, whitespace before a line end encoded.
void append_quoted_printable_line(std::string& out, std::string_view line) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::size_t column = 0;
    for (std::size_t i = 0; i < line.size(); ++i) {
        const auto byte = static_cast<unsigned char>(line[i]);
        const bool last = i + 1 == line.size();
        const bool literal =
            (byte >= 33 && byte <= 126 && byte != '=') || ((byte == ' ' || byte == '\t') && !last);
        const std::size_t width = literal ? 1 : 3;
        // Every encoded line but the last keeps a column for its soft break.
        if (column + width > (last ? kMaxQuotedPrintableLine : kMaxQuotedPrintableLine - 1)) {
            out += "=\r\n";
            column = 0;
        }
        if (literal) {
            out += static_cast<char>(byte);
        } else {
            out += '=';
            out += kHex[byte >> 4];
            out += kHex[byte & 0xf];
        }
        column += width;
    }
}

// Lines end in LF or CRLF in `body` and in CRLF in `out`; a body without a final line
// ending gets none. Leading dots are left alone: libcurl dot-stuffs SMTP uploads.
void append_quoted_printable(std::string& out, std::string_view body) {
    std::size_t start = 0;
    while (start < body.size()) {
        std::size_t end = body.find('\n', start);
        const bool line_ends = end != std::string_view::npos;
        if (!line_ends) end = body.size();
        std::string_view line = body.substr(start, end - start);
        if (line.ends_with('\r')) line.remove_suffix(1);
        append_quoted_printable_line(out, line);
        if (line_ends) out += "\r\n";
        start = end + 1;
    }
}

void append_part_headers(std::string& out, std::string_view type) {
    out += "Content-Type: ";
    out += type;
    out += "; charset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n";
}

// --- Settings ----------------------------------------------------------------------------

struct CurlUrlFree {
    void operator()(CURLU* url) const { curl_url_cleanup(url); }
};

// smtp:// or smtps:// with a host, and nothing that belongs elsewhere: credentials come
// from smtp_user and smtp_password_file, never from the URL.
bool is_smtp_url(std::string_view value) {
    if (value.size() > kMaxUrlLength || has_control(value) ||
        value.find(' ') != std::string_view::npos ||
        !(value.starts_with("smtp://") || value.starts_with("smtps://"))) {
        return false;
    }
    const std::unique_ptr<CURLU, CurlUrlFree> url(curl_url());
    if (!url ||
        curl_url_set(url.get(), CURLUPART_URL, std::string(value).c_str(), 0) != CURLUE_OK) {
        return false;
    }
    const auto absent = [&](CURLUPart part) {
        char* text = nullptr;
        const CURLUcode code = curl_url_get(url.get(), part, &text, 0);
        curl_free(text);
        return code != CURLUE_OK;
    };
    return !absent(CURLUPART_HOST) && absent(CURLUPART_USER) && absent(CURLUPART_PASSWORD) &&
           absent(CURLUPART_OPTIONS) && absent(CURLUPART_QUERY) && absent(CURLUPART_FRAGMENT);
}

bool is_absolute_path_or_empty(std::string_view value) {
    return value.empty() ||
           (value.starts_with('/') && value.size() <= kMaxPathLength && !has_control(value));
}

bool is_user(std::string_view value) {
    return value.size() <= kMaxUserLength && !has_control(value);
}

std::string errno_text(int error) {
    return std::error_code(error, std::generic_category()).message();
}

// The first line of a root-owned regular file that only root may read or write.
Result<SecretString> read_password_file(const std::string& path) {
    if (!path.starts_with('/')) return make_error(Errc::unsafe, "not an absolute path");
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (fd.get() < 0) {
        const int error = errno;
        if (error == ELOOP) return make_error(Errc::unsafe, "is a symlink");
        return make_error(error == ENOENT ? Errc::not_found : Errc::io, errno_text(error));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return make_error(Errc::io, errno_text(errno));
    if (!S_ISREG(st.st_mode)) return make_error(Errc::unsafe, "not a regular file");
    if (st.st_uid != 0) return make_error(Errc::unsafe, "not owned by root");
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        return make_error(Errc::unsafe, "accessible by group or other (chmod 600)");
    }
    if (st.st_size > static_cast<off_t>(kMaxPasswordFileSize)) {
        return make_error(Errc::unsafe, "larger than 4 KiB");
    }
    std::array<char, kMaxPasswordFileSize + 1> buffer{};
    std::size_t length = 0;
    while (length < buffer.size()) {
        const ssize_t got = ::read(fd.get(), buffer.data() + length, buffer.size() - length);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            const int error = errno;
            wipe(buffer.data(), buffer.size());
            return make_error(Errc::io, errno_text(error));
        }
        if (got == 0) break;
        length += static_cast<std::size_t>(got);
    }
    if (length > kMaxPasswordFileSize) {  // grew since fstat
        wipe(buffer.data(), buffer.size());
        return make_error(Errc::unsafe, "larger than 4 KiB");
    }
    std::string_view line(buffer.data(), length);
    line = line.substr(0, line.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    SecretString password(line);
    wipe(buffer.data(), buffer.size());
    if (password.empty()) return make_error(Errc::invalid_argument, "the first line is empty");
    return password;
}

// Each assign function stores a good value and returns "", or returns what was expected.
struct MailKey {
    std::string_view name;
    bool security_relevant;
    std::string (*assign)(MailSettings&, std::string_view);
};

// clang-format off
const MailKey kMailKeys[] = {
    {"smtp_url", true, [](MailSettings& s, std::string_view v) -> std::string {
        if (!is_smtp_url(v)) return "smtp://host[:port] or smtps://host[:port], no credentials";
        s.smtp_url = v;
        return {};
    }},
    {"smtp_starttls", true, [](MailSettings& s, std::string_view v) -> std::string {
        if (v == "required") s.starttls = StartTls::required;
        else if (v == "optional") s.starttls = StartTls::optional;
        else return "required or optional";
        return {};
    }},
    {"smtp_user", true, [](MailSettings& s, std::string_view v) -> std::string {
        if (!is_user(v)) return "0-256 characters, no control characters";
        s.smtp_user = v;
        return {};
    }},
    {"smtp_password_file", true, [](MailSettings& s, std::string_view v) -> std::string {
        if (!is_absolute_path_or_empty(v)) return "empty or an absolute path";
        if (!v.empty()) {
            const auto password = read_password_file(std::string(v));
            if (!password) return password.error().message;
        }
        s.smtp_password_file = v;
        return {};
    }},
    {"smtp_ca_file", true, [](MailSettings& s, std::string_view v) -> std::string {
        if (!is_absolute_path_or_empty(v)) return "empty or an absolute path";
        s.ca_file = v;
        return {};
    }},
    {"mail_from", false, [](MailSettings& s, std::string_view v) -> std::string {
        if (!parse_mailbox(v)) return "address or Name <address>";
        s.from = v;
        return {};
    }},
    {"smtp_timeout", false, [](MailSettings& s, std::string_view v) -> std::string {
        const auto seconds = detail::parse_int(v, kMinTimeout, kMaxTimeout);
        if (!seconds) return "1-300";
        s.timeout_seconds = *seconds;
        return {};
    }},
    {"smtp_retries", false, [](MailSettings& s, std::string_view v) -> std::string {
        const auto retries = detail::parse_int(v, 0, kMaxRetries);
        if (!retries) return "0-5";
        s.retries = *retries;
        return {};
    }},
};
// clang-format on

// The checks load_mail_settings makes per key, for settings built in code.
Status check_settings(const MailSettings& settings) {
    if (!is_smtp_url(settings.smtp_url)) return invalid("bad smtp_url");
    if (!is_user(settings.smtp_user)) return invalid("bad smtp_user");
    if (!is_absolute_path_or_empty(settings.smtp_password_file)) {
        return invalid("bad smtp_password_file");
    }
    if (settings.smtp_user.empty() != settings.smtp_password_file.empty()) {
        return invalid("smtp_user and smtp_password_file must be set together");
    }
    if (!is_absolute_path_or_empty(settings.ca_file)) return invalid("bad smtp_ca_file");
    if (settings.timeout_seconds < kMinTimeout || settings.timeout_seconds > kMaxTimeout) {
        return invalid("smtp_timeout out of range");
    }
    if (settings.retries < 0 || settings.retries > kMaxRetries) {
        return invalid("smtp_retries out of range");
    }
    return {};
}

// --- Sending -----------------------------------------------------------------------------

bool curl_ready() {
    static const bool ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    return ready;
}

struct CurlFree {
    void operator()(CURL* curl) const { curl_easy_cleanup(curl); }
};
struct SlistFree {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

struct Upload {
    std::string_view data;
    std::size_t offset = 0;
};

// Called by libcurl (C): must not throw.
std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) noexcept {
    auto* upload = static_cast<Upload*>(user);
    const std::size_t length = std::min(size * count, upload->data.size() - upload->offset);
    std::memcpy(buffer, upload->data.data() + upload->offset, length);
    upload->offset += length;
    return length;
}

struct Attempt {
    CURLcode code = CURLE_OK;
    long reply = 0;  // the server's last SMTP reply code, 0 if none
    std::string detail;
};

Attempt send_once(const MailSettings& settings, std::string_view from, std::string_view to,
                  const SecretString& password, std::string_view message) {
    Attempt attempt;
    const std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
    if (!curl) return {CURLE_FAILED_INIT, 0, "cannot create a libcurl handle"};
    const std::string mail_from = "<" + std::string(from) + ">";
    const std::string rcpt = "<" + std::string(to) + ">";
    const std::unique_ptr<curl_slist, SlistFree> recipients(
        curl_slist_append(nullptr, rcpt.c_str()));
    if (!recipients) return {CURLE_OUT_OF_MEMORY, 0, "out of memory"};
    Upload upload{message};
    std::array<char, CURL_ERROR_SIZE> error{};
    // Credentials only ever travel over TLS, whatever smtp_starttls says.
    const bool tls_required =
        settings.starttls == StartTls::required || !settings.smtp_user.empty();

    CURLcode code = CURLE_OK;
    const auto set = [&](CURLoption option, auto value) {
        if (code == CURLE_OK) code = curl_easy_setopt(curl.get(), option, value);
    };
    set(CURLOPT_ERRORBUFFER, error.data());
    set(CURLOPT_URL, settings.smtp_url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    set(CURLOPT_PROXY, "");  // never a proxy from the environment
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_CONNECTTIMEOUT, static_cast<long>(settings.timeout_seconds));
    set(CURLOPT_TIMEOUT, static_cast<long>(settings.timeout_seconds));
    set(CURLOPT_USE_SSL, static_cast<long>(tls_required ? CURLUSESSL_ALL : CURLUSESSL_TRY));
    set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings.ca_file.empty()) set(CURLOPT_CAINFO, settings.ca_file.c_str());
    if (!settings.smtp_user.empty()) {
        set(CURLOPT_USERNAME, settings.smtp_user.c_str());
        set(CURLOPT_PASSWORD, password.c_str());
    }
    set(CURLOPT_MAIL_FROM, mail_from.c_str());
    set(CURLOPT_MAIL_RCPT, recipients.get());
    set(CURLOPT_READFUNCTION, &read_upload);
    set(CURLOPT_READDATA, static_cast<void*>(&upload));
    set(CURLOPT_UPLOAD, 1L);
    if (code != CURLE_OK) return {code, 0, "libcurl refused an option"};

    attempt.code = curl_easy_perform(curl.get());
    curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &attempt.reply);
    attempt.detail = error[0] != '\0' ? error.data() : curl_easy_strerror(attempt.code);
    return attempt;
}

// A refusal that will not change by trying again: wrong password, no STARTTLS, an
// untrusted certificate, a 5xx reply.
bool is_permanent(const Attempt& attempt) {
    if (attempt.reply >= 500 && attempt.reply <= 599) return true;
    switch (attempt.code) {
        case CURLE_LOGIN_DENIED:
        case CURLE_USE_SSL_FAILED:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_UNKNOWN_OPTION:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_FAILED_INIT:
            return true;
        default:
            return false;
    }
}

// Wipes the message (it may hold a reset link or a code) however send_mail returns.
struct WipeOnExit {
    std::string& text;
    ~WipeOnExit() { wipe(text); }
};

}  // namespace

Status validate_address(std::string_view address) {
    const std::size_t at = address.find('@');
    const bool valid = address.size() <= kMaxAddressLength && at != std::string_view::npos &&
                       at <= kMaxLocalPartLength && is_dot_atom(address.substr(0, at)) &&
                       is_host_name(address.substr(at + 1));
    if (!valid) return invalid("invalid mail address '" + printable(address) + "'");
    return {};
}

void load_mail_settings(const std::string& config_path, MailSettings& settings,
                        std::vector<ConfigProblem>& problems) {
    const auto dict =
        detail::load_trusted_dictionary(config_path, config_path == kDefaultConfigPath, problems);
    if (!dict) return;
    for (ssize_t i = 0; i < dict->size; ++i) {
        if (dict->key[i] == nullptr || dict->val[i] == nullptr) continue;
        const std::string_view entry = dict->key[i];
        if (!entry.starts_with("reset:")) continue;
        const std::string_view name = entry.substr(entry.find(':') + 1);
        // Other [reset] keys belong to the reset service; unknown and misplaced keys were
        // reported, and removed, by load_trusted_dictionary.
        for (const MailKey& key : kMailKeys) {
            if (key.name != name) continue;
            const std::string_view value = dict->val[i];
            if (const std::string expected = key.assign(settings, value); !expected.empty()) {
                problems.push_back({"bad value for '" + std::string(name) + "': '" +
                                        printable(value) + "' (" + expected + ")",
                                    key.security_relevant});
            }
        }
    }
    if (settings.smtp_user.empty() != settings.smtp_password_file.empty()) {
        problems.push_back({"smtp_user and smtp_password_file must be set together", true});
    }
}

std::vector<std::string_view> mail_setting_names() {
    std::vector<std::string_view> names;
    for (const MailKey& key : kMailKeys) names.push_back(key.name);
    return names;
}

Result<std::string> build_message(const MailSettings& settings, const MailMessage& message,
                                  std::int64_t unix_time) {
    if (Status valid = validate_address(message.to); !valid) return valid.error();
    const auto from = parse_mailbox(settings.from);
    if (!from) return from.error();
    if (message.subject.size() > kMaxSubjectLength || has_control(message.subject) ||
        !is_utf8(message.subject)) {
        return invalid("subject must be at most 256 bytes of UTF-8 without control characters");
    }
    if (Status valid = check_body(message.text_body, "text"); !valid) return valid.error();
    if (Status valid = check_body(message.html_body, "HTML"); !valid) return valid.error();
    const auto date = rfc5322_date(unix_time);
    if (!date) return date.error();
    const auto id = message_id(from->address);
    if (!id) return id.error();

    std::string out;
    // Reserved once so the buffer never moves: a moved buffer would leave an unwiped copy
    // of the bodies (which may hold a reset link or a code) behind.
    out.reserve(4096 +
                4 * (message.subject.size() + message.text_body.size() + message.html_body.size()));
    out += "Date: " + *date + "\r\n";
    append_header(out, "From", mailbox_words(*from));
    out += "To: " + message.to + "\r\n";
    append_header(out, "Subject", subject_words(message.subject));
    out += "Message-ID: " + *id + "\r\n";
    out += "Auto-Submitted: auto-generated\r\n";
    out += "MIME-Version: 1.0\r\n";
    if (message.html_body.empty()) {
        append_part_headers(out, "text/plain");
        out += "\r\n";
        append_quoted_printable(out, message.text_body);
        if (!out.ends_with("\r\n")) out += "\r\n";
        return out;
    }
    const std::string delimiter = "--" + std::string(kBoundary);
    out += "Content-Type: multipart/alternative; boundary=\"" + std::string(kBoundary) + "\"\r\n";
    out += "\r\n";
    out += delimiter + "\r\n";
    append_part_headers(out, "text/plain");
    out += "\r\n";
    append_quoted_printable(out, message.text_body);
    out += "\r\n" + delimiter + "\r\n";
    append_part_headers(out, "text/html");
    out += "\r\n";
    append_quoted_printable(out, message.html_body);
    out += "\r\n" + delimiter + "--\r\n";
    return out;
}

Status send_mail(const MailSettings& settings, const MailMessage& message, std::int64_t unix_time) {
    if (Status valid = check_settings(settings); !valid) return valid;
    auto built = build_message(settings, message, unix_time);
    if (!built) return built.error();
    const WipeOnExit wipe_message{*built};
    const auto from = parse_mailbox(settings.from);  // valid: build_message checked it

    SecretString password;
    if (!settings.smtp_user.empty()) {
        auto read = read_password_file(settings.smtp_password_file);
        if (!read) {
            return make_error(read.error().code, "smtp_password_file " +
                                                     printable(settings.smtp_password_file, 256) +
                                                     ": " + read.error().message);
        }
        password = std::move(*read);
    }
    if (!curl_ready()) return make_error(Errc::io, "libcurl initialisation failed");

    const int attempts = 1 + settings.retries;
    Attempt last;
    int made = 0;
    while (made < attempts) {
        if (made > 0) std::this_thread::sleep_for(kBackoffStep * made);
        last = send_once(settings, from->address, message.to, password, *built);
        ++made;
        if (last.code == CURLE_OK) return {};
        if (is_permanent(last)) break;
    }
    std::string reason = printable(last.detail, 200);
    if (last.reply >= 400) reason += " (server reply " + std::to_string(last.reply) + ")";
    return make_error(Errc::io, "sending mail via " + printable(settings.smtp_url, 256) +
                                    " failed after " + std::to_string(made) +
                                    (made == 1 ? " attempt: " : " attempts: ") + reason);
}

}  // namespace totp
