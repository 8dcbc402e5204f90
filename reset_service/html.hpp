// HTML escaping for text placed in element content or in quoted attribute values.
#pragma once

#include <string>
#include <string_view>

#include "totp/secret.hpp"

namespace resetd {

std::string escape_html(std::string_view text);
void append_html_escaped(totp::SecretString& out, std::string_view text);

}  // namespace resetd
