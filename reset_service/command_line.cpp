// SPDX-License-Identifier: Apache-2.0
#include "command_line.hpp"

#include <string_view>

#include "totp/config.hpp"

namespace resetd {

const char* usage() {
    return "usage: totp-resetd [--config FILE] [--listen ADDR:PORT] [--foreground]\n"
           "\n"
           "  --config FILE        settings ([global] and [reset]); default "
           "/etc/security/pam_totp.conf\n"
           "  --listen ADDR:PORT   listen here instead of [reset] listen (e.g. 127.0.0.1:8787)\n"
           "  --foreground         also log to standard error\n"
           "  --help               show this text\n";
}

CommandLine parse_command_line(int argc, char** argv) {
    CommandLine command;
    command.options.config_path = totp::kDefaultConfigPath;
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        const auto value = [&](std::string& out) {
            if (i + 1 >= argc) {
                command.error = std::string(argument) + " needs a value";
                return;
            }
            out = argv[++i];
        };
        if (argument == "--config") {
            value(command.options.config_path);
        } else if (argument == "--listen") {
            value(command.options.listen);
        } else if (argument == "--foreground") {
            command.options.foreground = true;
        } else if (argument == "--web-child") {
            command.web_child = true;
        } else if (argument == "--help" || argument == "-h") {
            command.help = true;
        } else {
            command.error = "unknown argument '" + std::string(argument) + "'";
        }
        if (!command.error.empty()) break;
    }
    return command;
}

}  // namespace resetd
