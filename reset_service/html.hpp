// SPDX-License-Identifier: Apache-2.0
// HTML escaping for text placed in element content or in quoted attribute values (pages
// are built in a SecretString: they can hold a token).
#pragma once

#include <string_view>

#include "totp/secret.hpp"

namespace resetd {

void append_html_escaped(totp::SecretString& out, std::string_view text);

}  // namespace resetd
