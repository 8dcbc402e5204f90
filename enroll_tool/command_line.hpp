// SPDX-License-Identifier: Apache-2.0
// What the caller asked for: the subcommand, its options and operands, checked for form
// (values in range, options that apply to the subcommand) but not yet for permission.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "terminal_qr.hpp"
#include "totp/otp.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {

enum class Subcommand {
    enroll,
    status,
    recovery_codes,
    remove,
    unlock,
    list,
    import_google_authenticator,
    import_oath,
    import_pskc,
    email,
    migrate,
    db_upgrade,
    enforce,
    rollout,
    add,
    resync,
    help,
    version,
};

struct CommandLine {
    Subcommand subcommand = Subcommand::enroll;
    std::optional<std::string> user;         // --user
    std::optional<std::string> status_user;  // the USER operand of status
    std::optional<std::string> config;       // --config
    bool no_confirm = false;
    std::optional<totp::SecretString> secret;  // --secret (wiped from argv once copied)
    std::optional<totp::Algorithm> algorithm;
    std::optional<int> digits;
    std::optional<int> period;
    std::optional<std::string> issuer;
    std::optional<std::string> label;
    std::optional<QrStyle> qr = QrStyle::utf8;  // nullopt: --qr none
    std::optional<std::string> qr_png;
    std::optional<std::string> qr_svg;
    std::optional<int> recovery_codes;
    bool json = false;
    std::optional<std::string> file;        // import FILE / USERSFILE
    std::optional<std::string> address;     // email ADDR
    std::optional<std::string> to;          // migrate --to files|postgresql
    bool force = false;                     // enforce --force
    std::optional<std::string> pam_root;    // --pam-root: where etc/pam.d is (default /)
    std::optional<std::string> name;        // --name: an authenticator (add, remove, resync)
    std::optional<totp::OtpType> type;      // --type totp|hotp (add)
    std::optional<std::uint64_t> counter;   // --counter: an HOTP token's next counter (add)
    std::vector<totp::SecretString> codes;  // resync CODE1 CODE2 (wiped from argv too)
    std::vector<std::pair<std::string, std::string>> serial_map;  // import-pskc --map S=USER
    std::optional<std::string> map_file;                          // import-pskc --map-file
    std::optional<std::string> password_file;                     // import-pskc
    std::optional<std::string> key_file;                          // import-pskc

    // Options only root may give: they would change the target, the paths or the key.
    bool uses_root_only_options() const {
        return user || config || no_confirm || secret.has_value() || pam_root;
    }
};

// Parses argv (getopt_long; options may come before or after the subcommand).
totp::Result<CommandLine> parse_command_line(int argc, char** argv);

// The --help text.
const char* usage_text();

// Every long option (without "--") and every subcommand the parser accepts, for the check
// that totp-enroll(1) documents them all.
std::vector<std::string_view> option_names();
std::vector<std::string_view> subcommand_names();

}  // namespace totp_enroll
