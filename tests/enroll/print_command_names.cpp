// SPDX-License-Identifier: Apache-2.0
// Prints totp-enroll's long options or subcommands, one a line, as the parser's own tables
// hold them, for check_manpage.sh.
//
//   print_command_names options|subcommands
#include <cstdio>
#include <string_view>
#include <vector>

#include "command_line.hpp"

int main(int argc, char** argv) {
    const std::string_view what = argc == 2 ? argv[1] : "";
    std::vector<std::string_view> names;
    if (what == "options") {
        names = totp_enroll::option_names();
    } else if (what == "subcommands") {
        names = totp_enroll::subcommand_names();
    } else {
        std::fputs("usage: print_command_names options|subcommands\n", stderr);
        return 2;
    }
    for (std::string_view name : names) {
        std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
    }
    return 0;
}
