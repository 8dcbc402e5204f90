// SPDX-License-Identifier: Apache-2.0
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

void append_html_escaped(totp::SecretString& out, std::string_view text) {
    for (const char& c : text) {
        const std::string_view replacement = entity(c);
        out.append(replacement.empty() ? std::string_view(&c, 1) : replacement);
    }
}

}  // namespace resetd
