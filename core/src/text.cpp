// SPDX-License-Identifier: Apache-2.0
#include "totp/text.hpp"

#include <algorithm>

namespace totp {
namespace {

bool is_control(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
}

bool is_printable_ascii(char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte >= 0x20 && byte < 0x7f;
}

}  // namespace

bool all_digits(std::string_view text) {
    return !text.empty() &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool has_control(std::string_view text) {
    return std::any_of(text.begin(), text.end(), is_control);
}

std::string printable(std::string_view text, std::size_t max_length) {
    std::string out(text.substr(0, max_length));
    std::replace_if(
        out.begin(), out.end(), [](char c) { return !is_printable_ascii(c); }, '?');
    if (text.size() > max_length) out += "...";
    return out;
}

}  // namespace totp
