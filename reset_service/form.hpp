// SPDX-License-Identifier: Apache-2.0
// The bounded parser for application/x-www-form-urlencoded bodies (our forms are small:
// a user name, or a token, a code and two passwords). MHD parses HTTP; this parses only
// the body of a POST.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "totp/secret.hpp"

namespace resetd {

struct FormLimits {
    std::size_t max_fields = 8;
    std::size_t max_name = 32;     // names are [a-z0-9_]
    std::size_t max_value = 1024;  // bytes after decoding
};

class Form {
  public:
    // The decoded value, or nullptr if the field was not sent.
    const totp::SecretString* find(std::string_view name) const;
    // The decoded value, or "" if the field was not sent.
    std::string_view value(std::string_view name) const;

  private:
    friend std::optional<Form> parse_form(std::string_view, const FormLimits&);
    std::vector<std::pair<std::string, totp::SecretString>> fields_;
};

// nullopt for anything outside the limits or malformed: a bad %-escape, a decoded NUL, a
// name outside [a-z0-9_], a name given twice. Values are wiped when the Form goes away.
std::optional<Form> parse_form(std::string_view body, const FormLimits& limits = {});

}  // namespace resetd
