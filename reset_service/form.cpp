// SPDX-License-Identifier: Apache-2.0
#include "form.hpp"

namespace resetd {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Percent-decoding with '+' as space; false on a bad escape, a NUL or too long a result.
bool decode(std::string_view encoded, std::size_t max_size, totp::SecretString& out) {
    for (std::size_t i = 0; i < encoded.size(); ++i) {
        char c = encoded[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= encoded.size()) return false;
            const int high = hex_value(encoded[i + 1]);
            const int low = hex_value(encoded[i + 2]);
            if (high < 0 || low < 0) return false;
            c = static_cast<char>(high << 4 | low);
            i += 2;
        }
        if (c == '\0' || out.size() >= max_size) return false;
        out.append(std::string_view(&c, 1));
    }
    return true;
}

bool is_name(std::string_view name, std::size_t max_size) {
    if (name.empty() || name.size() > max_size) return false;
    for (char c : name) {
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    }
    return true;
}

}  // namespace

const totp::SecretString* Form::find(std::string_view name) const {
    for (const auto& [field, value] : fields_) {
        if (field == name) return &value;
    }
    return nullptr;
}

std::string_view Form::value(std::string_view name) const {
    const totp::SecretString* found = find(name);
    return found != nullptr ? found->view() : std::string_view();
}

std::optional<Form> parse_form(std::string_view body, const FormLimits& limits) {
    Form form;
    while (!body.empty()) {
        const std::size_t end = body.find('&');
        const std::string_view pair = body.substr(0, end);
        body = end == std::string_view::npos ? std::string_view() : body.substr(end + 1);
        if (pair.empty()) continue;
        if (form.fields_.size() >= limits.max_fields) return std::nullopt;

        const std::size_t equals = pair.find('=');
        const std::string_view name = pair.substr(0, equals);
        const std::string_view value =
            equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
        // Names are plain ASCII in our forms, so they need no decoding.
        if (!is_name(name, limits.max_name) || form.find(name) != nullptr) return std::nullopt;
        totp::SecretString decoded;
        if (!decode(value, limits.max_value, decoded)) return std::nullopt;
        form.fields_.emplace_back(std::string(name), std::move(decoded));
    }
    return form;
}

}  // namespace resetd
