// SPDX-License-Identifier: Apache-2.0
// totp-resetd --config FILE [--listen ADDR:PORT] [--foreground]
#pragma once

#include <string>

namespace resetd {

struct Options {
    std::string config_path;  // default: /etc/security/pam_totp.conf
    std::string listen;       // overrides [reset] listen when set
    bool foreground = false;  // log to stderr too
};

struct CommandLine {
    Options options;
    bool help = false;
    // Internal: how the monitor starts the web process (web_child.hpp); not in usage().
    bool web_child = false;
    std::string error;  // set: print it and the usage, exit 2
};

CommandLine parse_command_line(int argc, char** argv);
const char* usage();

}  // namespace resetd
