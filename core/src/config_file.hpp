// Shared by the loaders of pam_totp.conf sections (config.cpp for [global], mail.cpp for
// the SMTP keys of [reset]): one way to open the file, parse numbers and echo values.
#pragma once

#include <iniparser.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/config.hpp"

namespace totp::detail {

struct DictionaryFree {
    void operator()(dictionary* dict) const { iniparser_freedict(dict); }
};
using Dictionary = std::unique_ptr<dictionary, DictionaryFree>;

// The parsed file after the checks documented at load_config_file, or null: the file is
// missing and missing_ok (no problem added), or it was refused (a security-relevant
// problem added).
Dictionary load_trusted_dictionary(const std::string& path, bool missing_ok,
                                   std::vector<ConfigProblem>& problems);

// Plain decimal digits within [min, max].
std::optional<int> parse_int(std::string_view value, int min, int max);

}  // namespace totp::detail
