#include "html.hpp"

namespace resetd {
namespace {

std::string_view entity(char c) {
    switch (c) {
        case '&':
            return "&amp;";
        case '<':
            return "&lt;";
        case '>':
            return "&gt;";
        case '"':
            return "&quot;";
        case '\'':
            return "&#39;";
        default:
            return {};
    }
}

}  // namespace

std::string escape_html(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const std::string_view replacement = entity(c);
        if (replacement.empty()) {
            out += c;
        } else {
            out += replacement;
        }
    }
    return out;
}

void append_html_escaped(totp::SecretString& out, std::string_view text) {
    for (const char& c : text) {
        const std::string_view replacement = entity(c);
        out.append(replacement.empty() ? std::string_view(&c, 1) : replacement);
    }
}

}  // namespace resetd
