// SPDX-License-Identifier: Apache-2.0
// Shared by the loaders of pam_totp.conf sections (config.cpp for [global], mail.cpp and
// reset_settings.cpp for [reset]): one way to open and check the file, parse numbers and
// echo values.
#pragma once

#include <iniparser.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/config.hpp"
#include "totp/result.hpp"

namespace totp::detail {

// How much of a path a problem message shows.
inline constexpr std::size_t kMaxEchoedPath = 256;

struct DictionaryFree {
    void operator()(dictionary* dict) const { iniparser_freedict(dict); }
};
using Dictionary = std::unique_ptr<dictionary, DictionaryFree>;

// The parsed file after the checks documented at load_config_file, or null: the file is
// missing and missing_ok (no problem added), or it was refused (a security-relevant
// problem added). The whole file's layout is checked here, so each loader refuses a file
// with a key out of place; such entries are reported and removed from the dictionary.
// Problems another loader already added to `problems` are not added twice.
Dictionary load_trusted_dictionary(const std::string& path, bool missing_ok,
                                   std::vector<ConfigProblem>& problems);

// The bytes of a file trusted as configuration: an absolute path, opened once without
// following a symlink, a regular file owned by root, not writable by group or other, at most
// 64 KiB, without a NUL byte. nullopt: the file is missing and `missing_ok`. The error says
// why the file is not trusted, without its path.
Result<std::optional<std::string>> read_trusted_file(const std::string& path, bool missing_ok);

// Adds `problem` unless one with the same message is already there.
void add_problem(std::vector<ConfigProblem>& problems, ConfigProblem problem);

// A [global] key that takes yes or no.
bool is_yes_no_setting(std::string_view key);

// Plain decimal digits within [min, max].
std::optional<int> parse_int(std::string_view value, int min, int max);

}  // namespace totp::detail
