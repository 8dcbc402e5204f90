// SPDX-License-Identifier: Apache-2.0
// totp-check's command line.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "totp/result.hpp"

namespace totp_check {

struct Options {
    std::string root = "/";  // read DIR/etc/pam.d, DIR/etc/ssh, ... instead of the host's
    bool root_given = false;
    std::vector<std::string> services;  // empty: every interactive service
    bool json = false;
    bool store = false;  // check the database store instead of the stacks
    // --print-store: print the store the module reads from `config` (nullopt: the default
    // file, which may be missing) instead of checking anything.
    bool print_store = false;
    std::optional<std::string> config;
    // --print-pam-lines: print every pam_totp line libpam may read (pam_lines.hpp) instead
    // of checking anything.
    bool print_pam_lines = false;
    std::vector<std::string> except;  // --except: services --print-pam-lines leaves out
    bool help = false;
};

totp::Result<Options> parse_command_line(int argc, char** argv);

extern const char* const kUsage;

}  // namespace totp_check
