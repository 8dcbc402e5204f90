// SPDX-License-Identifier: Apache-2.0
#include "report.hpp"

#include <cstdio>

namespace totp_check {
namespace {

std::string json_string(const std::string& text) {
    std::string quoted = "\"";
    for (const char c : text) {
        switch (c) {
            case '"':
                quoted += "\\\"";
                break;
            case '\\':
                quoted += "\\\\";
                break;
            case '\n':
                quoted += "\\n";
                break;
            case '\t':
                quoted += "\\t";
                break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char escaped[8];
                    std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                    quoted += escaped;
                } else {
                    quoted += c;
                }
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
