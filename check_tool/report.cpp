// SPDX-License-Identifier: Apache-2.0
#include "report.hpp"

#include <cstdio>
#include <string_view>

namespace totp_check {
namespace {

// The length of the well-formed UTF-8 sequence at `at` (RFC 3629: no overlong form, no
// surrogate, nothing past U+10FFFF); 0 when the byte there starts none.
std::size_t utf8_length(std::string_view text, std::size_t at) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[at + i]); };
    unsigned char low = 0x80;  // the bounds of the second byte
    unsigned char high = 0xbf;
    std::size_t length = 0;
    if (byte(0) >= 0xc2 && byte(0) <= 0xdf) {
        length = 2;
    } else if (byte(0) >= 0xe0 && byte(0) <= 0xef) {
        length = 3;
        if (byte(0) == 0xe0) low = 0xa0;
        if (byte(0) == 0xed) high = 0x9f;
    } else if (byte(0) >= 0xf0 && byte(0) <= 0xf4) {
        length = 4;
        if (byte(0) == 0xf0) low = 0x90;
        if (byte(0) == 0xf4) high = 0x8f;
    }
    if (length == 0 || at + length > text.size() || byte(1) < low || byte(1) > high) return 0;
    for (std::size_t i = 2; i < length; ++i)
        if ((byte(i) & 0xc0) != 0x80) return 0;
    return length;
}

// A JSON string of `text`. File names and lines are bytes, not always UTF-8: a byte that
// is not part of well-formed UTF-8 becomes \u00XX (the character of that number), so the
// output is always valid JSON in UTF-8.
std::string json_string(const std::string& text) {
    std::string quoted = "\"";
    for (std::size_t at = 0; at < text.size(); ++at) {
        const auto c = static_cast<unsigned char>(text[at]);
        const std::size_t utf8 = c >= 0x80 ? utf8_length(text, at) : 0;
        if (c == '"' || c == '\\') {
            quoted += '\\';
            quoted += static_cast<char>(c);
        } else if (c == '\n') {
            quoted += "\\n";
        } else if (c == '\t') {
            quoted += "\\t";
        } else if (c < 0x20 || (c >= 0x80 && utf8 == 0)) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            quoted += escaped;
        } else if (utf8 > 0) {
            quoted.append(text, at, utf8);
            at += utf8 - 1;
        } else {
            quoted += static_cast<char>(c);
        }
    }
    return quoted + "\"";
}

std::string json_list(const std::vector<std::string>& items) {
    std::string text = "[";
    for (std::size_t i = 0; i < items.size(); ++i) text += (i ? ", " : "") + json_string(items[i]);
    return text + "]";
}

}  // namespace

int exit_status(const Report& report) {
    if (report.unreadable || report.incomplete) return 2;
    return report.findings.empty() ? 0 : 1;
}

void print_text(const Report& report, std::ostream& out) {
    for (const Finding& finding : report.findings) {
        out << (finding.service.empty() ? "" : finding.service + ": ") << finding.message;
        if (!finding.file.empty()) {
            out << " [" << finding.file;
            if (finding.line > 0) out << ":" << finding.line;
            out << "]";
        }
        out << "\n";
        for (const std::string& step : finding.path) out << "    " << step << "\n";
    }
    for (const std::string& note : report.notes) out << "note: " << note << "\n";
    switch (exit_status(report)) {
        case 0:
            out << "no way around the verification code found";
            break;
        case 1:
            out << report.findings.size() << " finding" << (report.findings.size() == 1 ? "" : "s");
            break;
        default:
            out << report.findings.size() << " finding" << (report.findings.size() == 1 ? "" : "s")
                << ", but not everything could be read or followed (see the notes)";
    }
    out << " (services checked: ";
    for (std::size_t i = 0; i < report.services.size(); ++i)
        out << (i ? ", " : "") << report.services[i];
    out << ")\n";
}

void print_json(const Report& report, std::ostream& out) {
    out << "{\n  \"status\": " << exit_status(report) << ",\n";
    out << "  \"services\": " << json_list(report.services) << ",\n";
    out << "  \"findings\": [";
    for (std::size_t i = 0; i < report.findings.size(); ++i) {
        const Finding& finding = report.findings[i];
        out << (i ? "," : "") << "\n    {\"service\": " << json_string(finding.service)
            << ", \"kind\": " << json_string(finding.kind)
            << ", \"file\": " << json_string(finding.file) << ", \"line\": " << finding.line
            << ", \"message\": " << json_string(finding.message)
            << ", \"path\": " << json_list(finding.path) << "}";
    }
    out << (report.findings.empty() ? "" : "\n  ") << "],\n";
    out << "  \"notes\": " << json_list(report.notes) << "\n}\n";
}

}  // namespace totp_check
