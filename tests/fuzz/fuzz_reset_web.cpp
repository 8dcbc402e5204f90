// SPDX-License-Identifier: Apache-2.0
// What the reset service's web process takes from the network: form bodies
// (application/x-www-form-urlencoded), the token from the link's query string, the CSRF
// cookie, and HTML escaping of what it echoes. Nothing may crash; a parsed form keeps its
// limits; escaped text holds no markup; a token that parses is exactly in canonical form.
#include <cstdint>
#include <string>
#include <string_view>

#include "csrf.hpp"
#include "form.hpp"
#include "fuzz_input.hpp"
#include "html.hpp"
#include "totp/reset_token.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    const std::string token = input.text(160);
    const std::string text = input.text(200);
    const std::string body = input.rest();

    const resetd::FormLimits limits;
    if (const auto form = resetd::parse_form(body, limits)) {
        for (std::string_view name : {"user", "token", "code", "password", "repeat", "csrf"}) {
            if (const totp::SecretString* value = form->find(name)) {
                if (value->size() > limits.max_value) fuzz::violated("form value over the limit");
                if (value->view().find('\0') != std::string_view::npos)
                    fuzz::violated("form value holds a NUL");
                if (form->value(name) != value->view()) fuzz::violated("find and value disagree");
            } else if (!form->value(name).empty()) {
                fuzz::violated("value of a missing field");
            }
        }
    }

    totp::SecretString escaped_text;
    resetd::append_html_escaped(escaped_text, text);
    const std::string_view escaped = escaped_text.view();
    if (escaped.find_first_of("<>\"'") != std::string_view::npos)
        fuzz::violated("markup survives escaping");
    for (std::size_t at = escaped.find('&'); at != std::string_view::npos;
         at = escaped.find('&', at + 1)) {
        if (escaped.find(';', at) == std::string_view::npos)
            fuzz::violated("bare ampersand after escaping");
    }

    if (const auto parts = totp::parse_reset_token(token)) {
        if (token.size() != totp::kResetTokenLength) fuzz::violated("token length");
        for (char c : token) {
            if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '.'))
                fuzz::violated("token with a foreign character accepted");
        }
        if (!totp::is_reset_selector(parts->selector)) fuzz::violated("parsed selector is not one");
        if (parts->verifier.size() != totp::kResetVerifierBytes) fuzz::violated("verifier size");
    }
    if (resetd::is_csrf_value(text) && text.size() != resetd::kCsrfHexLength)
        fuzz::violated("csrf value length");
    return 0;
}
