// SPDX-License-Identifier: Apache-2.0
// Prints the keys the code accepts, one a line, for the documentation checks
// (check_config_keys.sh, tests/reset/check_reset_keys.sh): read from the code's own tables,
// not from its source text.
//
//   print_setting_names global|reset|mail
#include <cstdio>
#include <string_view>
#include <vector>

#include "totp/config.hpp"
#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"

int main(int argc, char** argv) {
    const std::string_view section = argc == 2 ? argv[1] : "";
    std::vector<std::string_view> names;
    if (section == "global") {
        names = totp::setting_names();
    } else if (section == "reset") {
        names = totp::reset_setting_names();
    } else if (section == "mail") {
        names = totp::mail_setting_names();
    } else {
        std::fputs("usage: print_setting_names global|reset|mail\n", stderr);
        return 2;
    }
    for (std::string_view name : names) {
        std::printf("%.*s\n", static_cast<int>(name.size()), name.data());
    }
    return 0;
}
