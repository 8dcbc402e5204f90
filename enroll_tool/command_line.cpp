// SPDX-License-Identifier: Apache-2.0
#include "command_line.hpp"

#include <getopt.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include "totp/text.hpp"

namespace totp_enroll {
namespace {

constexpr std::size_t kMaxText = 128;

enum Option : int {
    kUser = 256,
    kConfig,
    kNoConfirm,
    kSecret,
    kAlgorithm,
    kDigits,
    kPeriod,
    kIssuer,
    kLabel,
    kQr,
    kQrPng,
    kQrSvg,
    kRecoveryCodes,
    kJson,
    kTo,
    kForce,
    kPamRoot,
    kMap,
    kMapFile,
    kPasswordFile,
    kKeyFile,
    kName,
    kType,
    kCounter,
    kHelp,
    kVersion,
};

constexpr std::uint32_t bit(Option option) {
    return 1u << (option - kUser);
}

// clang-format off
constexpr option kLongOptions[] = {
    {"user", required_argument, nullptr, kUser},
    {"config", required_argument, nullptr, kConfig},
    {"no-confirm", no_argument, nullptr, kNoConfirm},
    {"secret", required_argument, nullptr, kSecret},
    {"algorithm", required_argument, nullptr, kAlgorithm},
    {"digits", required_argument, nullptr, kDigits},
    {"period", required_argument, nullptr, kPeriod},
    {"issuer", required_argument, nullptr, kIssuer},
    {"label", required_argument, nullptr, kLabel},
    {"qr", required_argument, nullptr, kQr},
    {"qr-png", required_argument, nullptr, kQrPng},
    {"qr-svg", required_argument, nullptr, kQrSvg},
    {"recovery-codes", required_argument, nullptr, kRecoveryCodes},
    {"json", no_argument, nullptr, kJson},
    {"to", required_argument, nullptr, kTo},
    {"force", no_argument, nullptr, kForce},
    {"pam-root", required_argument, nullptr, kPamRoot},
    {"map", required_argument, nullptr, kMap},
    {"map-file", required_argument, nullptr, kMapFile},
    {"password-file", required_argument, nullptr, kPasswordFile},
    {"key-file", required_argument, nullptr, kKeyFile},
    {"name", required_argument, nullptr, kName},
    {"type", required_argument, nullptr, kType},
    {"counter", required_argument, nullptr, kCounter},
    {"help", no_argument, nullptr, kHelp},
    {"version", no_argument, nullptr, kVersion},
    {nullptr, 0, nullptr, 0},
};

struct SubcommandSpec {
    std::string_view name;
    Subcommand subcommand;
    std::uint32_t options;  // which options apply
    int min_operands;
    int max_operands;
};

constexpr std::uint32_t kEnrollOptions =
    bit(kUser) | bit(kConfig) | bit(kNoConfirm) | bit(kSecret) | bit(kAlgorithm) | bit(kDigits) |
    bit(kPeriod) | bit(kIssuer) | bit(kLabel) | bit(kQr) | bit(kQrPng) | bit(kQrSvg) |
    bit(kRecoveryCodes);

constexpr std::uint32_t kAddOptions =
    bit(kUser) | bit(kConfig) | bit(kNoConfirm) | bit(kSecret) | bit(kAlgorithm) | bit(kDigits) |
    bit(kPeriod) | bit(kIssuer) | bit(kLabel) | bit(kQr) | bit(kQrPng) | bit(kQrSvg) | bit(kName) |
    bit(kType) | bit(kCounter);

constexpr SubcommandSpec kSubcommands[] = {
    {"", Subcommand::enroll, kEnrollOptions, 0, 0},
    {"status", Subcommand::status, bit(kConfig) | bit(kPamRoot), 0, 1},
    {"recovery-codes", Subcommand::recovery_codes, bit(kUser) | bit(kConfig) | bit(kRecoveryCodes), 0, 0},
    {"remove", Subcommand::remove, bit(kUser) | bit(kConfig) | bit(kName), 0, 0},
    {"add", Subcommand::add, kAddOptions, 0, 0},
    {"resync", Subcommand::resync, bit(kUser) | bit(kConfig) | bit(kName), 2, 2},
    {"unlock", Subcommand::unlock, bit(kUser) | bit(kConfig), 0, 0},
    {"list", Subcommand::list, bit(kConfig) | bit(kJson) | bit(kPamRoot), 0, 0},
    {"enforce", Subcommand::enforce, bit(kConfig) | bit(kForce) | bit(kPamRoot), 0, 0},
    {"rollout", Subcommand::rollout, bit(kConfig) | bit(kPamRoot), 0, 0},
    {"import-google-authenticator", Subcommand::import_google_authenticator, bit(kUser) | bit(kConfig), 0, 1},
    {"import-oath", Subcommand::import_oath, bit(kConfig), 1, 1},
    {"import-pskc", Subcommand::import_pskc, bit(kConfig) | bit(kMap) | bit(kMapFile) | bit(kPasswordFile) | bit(kKeyFile), 1, 1},
    {"email", Subcommand::email, bit(kUser) | bit(kConfig), 1, 1},
    {"migrate", Subcommand::migrate, bit(kConfig) | bit(kTo), 0, 0},
    {"db-upgrade", Subcommand::db_upgrade, bit(kConfig), 0, 0},
};
// clang-format on

// A command line that does not parse: point at the usage text.
totp::Error usage(std::string message) {
    return totp::make_error(totp::Errc::invalid_argument,
                            std::move(message) + " (see totp-enroll --help)");
}

// An option whose value is out of range: the message says what is accepted.
totp::Error bad_value(std::string message) {
    return totp::make_error(totp::Errc::invalid_argument, std::move(message));
}

std::optional<int> parse_number(std::string_view text, int min, int max) {
    int number = 0;
    const char* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, number);
    if (text.empty() || error != std::errc{} || stop != end || number < min || number > max) {
        return std::nullopt;
    }
    return number;
}

bool is_display_text(std::string_view text) {
    return text.size() <= kMaxText && !totp::has_control(text);
}

// Sets `style` (nullopt for "none"); false for an unknown name.
bool parse_qr_style(std::string_view name, std::optional<QrStyle>& style) {
    if (name == "utf8") {
        style = QrStyle::utf8;
    } else if (name == "utf8-inverted") {
        style = QrStyle::utf8_inverted;
    } else if (name == "ansi") {
        style = QrStyle::ansi;
    } else if (name == "none") {
        style.reset();
    } else {
        return false;
    }
    return true;
}

// Copies an argument that is a secret or a code, then wipes it where it stood in argv:
// /proc/PID/cmdline is readable by every local user for as long as the tool runs, and it
// may wait a while (PAM's questions, a record's lock).
totp::SecretString take_secret(char* argument) {
    totp::SecretString secret{std::string_view(argument)};
    totp::wipe(argument, std::strlen(argument));
    return secret;
}

// --name, --type, --counter: the authenticator that add, remove and resync act on.
totp::Status apply_authenticator_option(int option, std::string_view value, CommandLine& command) {
    switch (option) {
        case kName:
            if (value.empty() || value.size() > totp::kMaxAuthenticatorName ||
                value.front() == '-' ||
                value.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789._-") != std::string_view::npos) {
                return bad_value("--name must be 1-" + std::to_string(totp::kMaxAuthenticatorName) +
                                 " letters, digits, '.', '_' or '-', not starting with '-'");
            }
            command.name = std::string(value);
            return {};
        case kType:
            command.type = totp::parse_type(value);
            if (!command.type) {
                return bad_value("unknown type '" + totp::printable(value) +
                                 "' (use totp or hotp)");
            }
            return {};
        case kCounter: {
            std::uint64_t counter = 0;
            const char* end = value.data() + value.size();
            const auto [stop, error] = std::from_chars(value.data(), end, counter);
            if (value.empty() || error != std::errc{} || stop != end ||
                counter > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                return bad_value("bad counter '" + totp::printable(value) + "' (use 0-2^63-1)");
            }
            command.counter = counter;
            return {};
        }
    }
    return bad_value("unknown option");
}

// --map, --map-file, --password-file, --key-file: import-pskc's token owners and key.
totp::Status apply_pskc_option(int option, std::string_view value, CommandLine& command) {
    if (option == kMap) {
        const std::size_t equals = value.find('=');
        if (equals == 0 || equals == std::string_view::npos || equals + 1 == value.size() ||
            totp::has_control(value)) {
            return bad_value("--map needs SERIAL=USER");
        }
        command.serial_map.emplace_back(value.substr(0, equals), value.substr(equals + 1));
        return {};
    }
    if (value.empty())
        return bad_value("--map-file, --password-file and --key-file need a file name");
    (option == kMapFile        ? command.map_file
     : option == kPasswordFile ? command.password_file
                               : command.key_file) = std::string(value);
    return {};
}

// The new key's secret, parameters and presentation (enrollment and add).
totp::Status apply_key_option(int option, char* argument, CommandLine& command) {
    const std::string_view value = argument != nullptr ? argument : "";
    switch (option) {
        case kSecret:
            if (argument == nullptr) return bad_value("--secret needs a value");
            command.secret = take_secret(argument);
            return {};
        case kAlgorithm:
            command.algorithm = totp::parse_algorithm(value);
            if (!command.algorithm) {
                return bad_value("unsupported algorithm '" + totp::printable(value) +
                                 "' (use SHA1, SHA256 or SHA512)");
            }
            return {};
        case kDigits:
            command.digits = parse_number(value, totp::kMinDigits, totp::kMaxDigits);
            if (!command.digits) {
                return bad_value("unsupported number of digits '" + totp::printable(value) +
                                 "' (use 6, 7 or 8)");
            }
            return {};
        case kPeriod:
            command.period = parse_number(value, totp::kMinPeriod, totp::kMaxPeriod);
            if (!command.period) {
                return bad_value("unsupported period '" + totp::printable(value) +
                                 "' (use 15-300 seconds)");
            }
            return {};
        case kIssuer:
            if (!is_display_text(value)) {
                return bad_value(
                    "--issuer must be at most 128 characters, without control characters");
            }
            command.issuer = std::string(value);
            return {};
        case kLabel:
            if (value.empty() || !is_display_text(value)) {
                return bad_value("--label must be 1-128 characters, without control characters");
            }
            if (value.find(':') != std::string_view::npos) {
                return bad_value(
                    "--label must not contain ':' (authenticator apps split the "
                    "label there)");
            }
            command.label = std::string(value);
            return {};
        case kQr:
            if (!parse_qr_style(value, command.qr)) {
                return bad_value("unknown QR style '" + totp::printable(value) +
                                 "' (use utf8, utf8-inverted, ansi or none)");
            }
            return {};
        case kQrPng:
        case kQrSvg:
            if (value.empty()) return bad_value("--qr-png and --qr-svg need a file name");
            (option == kQrPng ? command.qr_png : command.qr_svg) = std::string(value);
            return {};
        case kRecoveryCodes:
            command.recovery_codes = parse_number(value, 0, 20);
            if (!command.recovery_codes) {
                return bad_value("bad number of recovery codes '" + totp::printable(value) +
                                 "' (use 0-20)");
            }
            return {};
    }
    return bad_value("unknown option");
}

// Stores one option's value in `command`; a failure names the option and the bad value.
totp::Status apply_option(int option, char* argument, CommandLine& command) {
    const std::string_view value = argument != nullptr ? argument : "";
    switch (option) {
        case kUser:
            if (value.empty()) return bad_value("--user needs a user name");
            command.user = std::string(value);
            return {};
        case kConfig:
            command.config = std::string(value);
            return {};
        case kNoConfirm:
            command.no_confirm = true;
            return {};
        case kJson:
            command.json = true;
            return {};
        case kTo:
            if (value != "files" && value != "postgresql") {
                return bad_value("unknown store '" + totp::printable(value) +
                                 "' (use files or postgresql)");
            }
            command.to = std::string(value);
            return {};
        case kForce:
            command.force = true;
            return {};
        case kPamRoot:
            if (!value.starts_with('/')) return bad_value("--pam-root needs an absolute directory");
            command.pam_root = std::string(value);
            return {};
        case kName:
        case kType:
        case kCounter:
            return apply_authenticator_option(option, value, command);
        case kMap:
        case kMapFile:
        case kPasswordFile:
        case kKeyFile:
            return apply_pskc_option(option, value, command);
    }
    // Every other option takes a value (required_argument): `argument` is set.
    return apply_key_option(option, argument, command);
}

std::string option_name(int option) {
    for (const auto& entry : kLongOptions) {
        if (entry.val == option && entry.name != nullptr) return std::string("--") + entry.name;
    }
    return "?";
}

const SubcommandSpec* find_subcommand(std::string_view name) {
    for (const auto& spec : kSubcommands) {
        if (!name.empty() && spec.name == name) return &spec;
    }
    return nullptr;
}

// Assigns the operands after the subcommand name (in argv) to their fields.
totp::Status take_operands(const SubcommandSpec& spec, std::span<char* const> operands,
                           CommandLine& command) {
    const int count = static_cast<int>(operands.size());
    const std::string name = spec.name.empty() ? "enrollment" : "'" + std::string(spec.name) + "'";
    if (count < spec.min_operands) return usage("missing operand for " + name);
    if (count > spec.max_operands) {
        return usage("unexpected operand '" + totp::printable(operands.back()) + "'");
    }
    if (count == 0) return {};
    switch (spec.subcommand) {
        case Subcommand::status:
            command.status_user = operands[0];
            break;
        case Subcommand::email:
            command.address = operands[0];
            break;
        case Subcommand::resync:
            for (char* code : operands) command.codes.push_back(take_secret(code));
            break;
        default:
            command.file = operands[0];
            break;
    }
    return {};
}

}  // namespace

totp::Result<CommandLine> parse_command_line(int argc, char** argv) {
    CommandLine command;
    std::uint32_t seen = 0;
    ::opterr = 0;
    ::optind = 1;
    for (;;) {
        const int option = ::getopt_long(argc, argv, ":h", kLongOptions, nullptr);
        if (option == -1) break;
        if (option == 'h' || option == kHelp) {
            command.subcommand = Subcommand::help;
            return command;
        }
        if (option == kVersion) {
            command.subcommand = Subcommand::version;
            return command;
        }
        if (option == '?') {
            const std::string given = ::optopt != 0 ? std::string("-") + static_cast<char>(::optopt)
                                                    : totp::printable(argv[::optind - 1]);
            return usage("unknown option '" + given + "'");
        }
        if (option == ':') return usage(option_name(::optopt) + " needs a value");
        // --map is the one option given once per token.
        if (option != kMap && (seen & bit(static_cast<Option>(option))) != 0) {
            return usage(option_name(option) + " given twice");
        }
        seen |= bit(static_cast<Option>(option));
        if (totp::Status applied = apply_option(option, ::optarg, command); !applied) {
            return applied.error();
        }
    }

    std::span<char* const> operands(argv + ::optind, argv + argc);
    const SubcommandSpec* spec = &kSubcommands[0];
    if (!operands.empty()) {
        spec = find_subcommand(operands.front());
        if (spec == nullptr) {
            return usage("unknown command '" + totp::printable(operands.front()) + "'");
        }
        operands = operands.subspan(1);
    }
    command.subcommand = spec->subcommand;
    for (const auto& entry : kLongOptions) {
        if (entry.name == nullptr || entry.val == kHelp || entry.val == kVersion) continue;
        const std::uint32_t flag = bit(static_cast<Option>(entry.val));
        if ((seen & flag) != 0 && (spec->options & flag) == 0) {
            return usage(option_name(entry.val) + " does not apply to " +
                         (spec->name.empty() ? std::string("enrollment")
                                             : "'" + std::string(spec->name) + "'"));
        }
    }
    if (spec->subcommand == Subcommand::import_pskc && command.serial_map.empty() &&
        !command.map_file) {
        return usage("'import-pskc' needs --map SERIAL=USER or --map-file FILE");
    }
    if (spec->subcommand == Subcommand::migrate && !command.to) {
        return usage("'migrate' needs --to files or --to postgresql");
    }
    if ((spec->subcommand == Subcommand::remove && !command.user && !command.name) ||
        (spec->subcommand == Subcommand::unlock && !command.user)) {
        return usage("'" + std::string(spec->name) + "' needs --user NAME");
    }
    if ((spec->subcommand == Subcommand::add || spec->subcommand == Subcommand::resync) &&
        !command.name) {
        return usage("'" + std::string(spec->name) + "' needs --name LABEL");
    }
    if (command.counter && command.type != totp::OtpType::hotp) {
        return usage("--counter applies to --type hotp only");
    }
    if (totp::Status taken = take_operands(*spec, operands, command); !taken) {
        return taken.error();
    }
    return command;
}

std::vector<std::string_view> option_names() {
    std::vector<std::string_view> names;
    for (const option& entry : kLongOptions) {
        if (entry.name != nullptr) names.emplace_back(entry.name);
    }
    return names;
}

std::vector<std::string_view> subcommand_names() {
    std::vector<std::string_view> names;
    for (const SubcommandSpec& spec : kSubcommands) {
        if (!spec.name.empty()) names.push_back(spec.name);
    }
    return names;
}

const char* usage_text() {
    return R"(Usage:
  totp-enroll [OPTIONS]                 enroll yourself (root: --user NAME for anyone)
  totp-enroll status [USER]             show an enrollment
  totp-enroll recovery-codes [--user NAME]
                                        a new set of recovery codes; the old ones stop working
  totp-enroll remove --user NAME        delete an enrollment (root)
  totp-enroll add [--user NAME] --name LABEL [--type totp|hotp] [--counter N]
                                        another authenticator (a spare phone, a token)
  totp-enroll remove [--user NAME] --name LABEL
                                        remove one authenticator, keep the others
  totp-enroll resync [--user NAME] --name LABEL CODE1 CODE2
                                        two codes in a row set an HOTP token's counter
                                        or a TOTP token's clock offset
  totp-enroll unlock --user NAME        end a lockout (root)
  totp-enroll list [--json]             every enrolled user (root)
  totp-enroll import-google-authenticator [--user NAME] [FILE]
                                        keep a ~/.google_authenticator secret
  totp-enroll import-oath USERSFILE     import a pam_oath users file (root)
  totp-enroll import-pskc FILE --map SERIAL=USER... | --map-file CSV
              [--password-file FILE | --key-file FILE]
                                        import a PSKC (RFC 6030) token file (root)
  totp-enroll email ADDR [--user NAME]  record a verified address for password resets
  totp-enroll migrate --to postgresql|files
                                        copy every user into the other store (root)
  totp-enroll db-upgrade                create or upgrade the database schema (root)
  totp-enroll enforce [--force]         refuse users who have not enrolled (root); refused
                                        while accounts that can log in are not enrolled
  totp-enroll rollout                   let users who have not enrolled in with the
                                        password alone until enforce (root)

Enrollment options:
  --user NAME            root only: the user to enroll
  --config FILE          root only: read this pam_totp.conf instead of the default
  --no-confirm           root only: activate without asking for a code
  --secret BASE32        root only: use this secret instead of a new random one
  --algorithm ALG        SHA1, SHA256 or SHA512
  --digits N             6, 7 or 8
  --period SECONDS       15-300
  --issuer TEXT          shown in the app (default: config issuer=, else the host name)
  --label TEXT           account name shown in the app (default: the user name)
  --qr STYLE             utf8, utf8-inverted, ansi or none
  --qr-png FILE          also write the QR code as a PNG image (mode 0600)
  --qr-svg FILE          also write the QR code as an SVG image (mode 0600)
  --recovery-codes N     how many recovery codes (0-20)

Authenticator options (add, remove, resync):
  --name LABEL           the authenticator: 1-32 of A-Z a-z 0-9 . _ - (first: default)
  --type TYPE            totp (the default) or hotp (a counter-based hardware token)
  --counter N            hotp: the token's next counter (default 0)

Other options:
  --force                enforce even while accounts that can log in are not enrolled
  --pam-root DIR         root only: read DIR/etc/pam.d for the warning that logins do
                         not run pam_totp (status, list, enforce, rollout), and
                         DIR/etc/login.defs and DIR/etc/nsswitch.conf (enforce)
  --help, --version

Exit status: 0 ok, 1 runtime failure, 2 usage error, 3 not permitted, 4 not found,
5 confirmation failed or aborted. See totp-enroll(1).
)";
}

}  // namespace totp_enroll
