// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

#include <string>
#include <string_view>

namespace pam_totp {
namespace {

constexpr std::string_view kConfigArgument = "config=";

// In the home layout a missing file may only mean the home is not mounted yet (pam_mount,
// ecryptfs, autofs mount it later in the login): with nullok that would read as "not
// enrolled" and let the password alone in. Roll out with require_group instead.
void check_combination(ModuleOptions& options) {
    if (options.settings.nullok && !options.settings.secret_path.empty()) {
        options.problems.push_back(
            {"nullok cannot be used with secret_path (a home that is not mounted yet would "
             "look like no enrollment); roll out with require_group instead",
             true});
    }
}

}  // namespace

bool ModuleOptions::must_fail_closed() const {
    for (const auto& problem : problems) {
        if (problem.security_relevant) return true;
    }
    return false;
}

ModuleOptions load_options(int argc, const char** argv) {
    ModuleOptions options;
    std::string config_path = totp::kDefaultConfigPath;
    bool explicit_config = false;
    for (int i = 0; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument.starts_with(kConfigArgument)) {
            config_path = std::string(argument.substr(kConfigArgument.size()));
            explicit_config = true;
        }
    }
    // The default file is optional (arguments alone can configure the module); a file
    // named with config= must exist.
    totp::load_config_file(config_path, !explicit_config, options.settings, options.problems);
    if (options.settings.forward_pass) {
        // It would make every pam_totp line of a stack split and none check the code.
        options.problems.push_back(
            {"forward_pass belongs on the one pam_totp line that "
             "splits the answer, not in the configuration file",
             true});
        options.settings.forward_pass = false;
    }

    for (int i = 0; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument.starts_with(kConfigArgument)) continue;
        totp::apply_argument(options.settings, argument, options.problems);
    }
    check_combination(options);
    return options;
}

}  // namespace pam_totp
