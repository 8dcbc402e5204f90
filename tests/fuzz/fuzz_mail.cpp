// SPDX-License-Identifier: Apache-2.0
// Outgoing mail (core/mail): addresses typed by users at enrollment, and messages built
// from them. Validation never crashes; a message that builds has CRLF line endings only,
// no header injected by a field, and no line longer than SMTP allows.
#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_input.hpp"
#include "totp/mail.hpp"

namespace {

bool printable_ascii(std::string_view text) {
    for (unsigned char c : text) {
        if (c <= ' ' || c > '~') return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::string address = input.text(300);
    totp::MailSettings settings;
    if (input.flag()) settings.from = input.text(120);
    totp::MailMessage message;
    message.to = input.flag() ? address : "user@example.org";
    message.subject = input.text(300);
    message.text_body = input.long_text(4000);
    if (input.flag()) message.html_body = input.long_text(4000);
    const std::int64_t now = static_cast<std::int64_t>(input.u64() >> 24);

    if (totp::validate_address(address)) {
        if (address.size() > 254 || !printable_ascii(address))
            fuzz::violated("bad address accepted");
        if (address.find_first_of("<>,;\"\\") != std::string::npos)
            fuzz::violated("address with a special");
        if (std::count(address.begin(), address.end(), '@') != 1)
            fuzz::violated("address without exactly one @");
    }

    totp::Result<std::string> built = totp::build_message(settings, message, now);
    if (!built) return 0;
    const std::string& text = *built;
    std::size_t line_start = 0;
    bool in_headers = true;
    int to_headers = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n'))
            fuzz::violated("bare CR");
        if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r')) fuzz::violated("bare LF");
        if (text[i] == '\0') fuzz::violated("NUL in the message");
        if (text[i] != '\n') continue;
        const std::string_view line(text.data() + line_start, i - 1 - line_start);
        if (line.size() > 998) fuzz::violated("line longer than 998 characters");
        if (in_headers) {
            if (line.empty())
                in_headers = false;
            else if (line.starts_with("To:"))
                ++to_headers;
            else if (line.starts_with("Bcc:") || line.starts_with("Cc:"))
                fuzz::violated("header injected");
        }
        line_start = i + 1;
    }
    if (to_headers != 1) fuzz::violated("not exactly one To header");
    return 0;
}
