// SPDX-License-Identifier: Apache-2.0
// Module settings: config= picks the file, the file is read, then the remaining
// arguments override it (the precedence pam-u2f uses).
#pragma once

#include <vector>

#include "totp/config.hpp"

namespace pam_totp {

struct ModuleOptions {
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    bool must_fail_closed() const;
};

ModuleOptions load_options(int argc, const char** argv);

}  // namespace pam_totp
