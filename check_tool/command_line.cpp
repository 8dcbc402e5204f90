// SPDX-License-Identifier: Apache-2.0
#include "command_line.hpp"

#include <getopt.h>

namespace totp_check {

const char* const kUsage =
    "usage: totp-check [--root DIR] [--service NAME]... [--json]\n"
    "       totp-check --store [--root DIR] [--json]\n"
    "       totp-check --print-store [--root DIR] [--config FILE]\n"
    "       totp-check --print-pam-lines [--root DIR] [--except PATTERN]...\n"
    "Reports every way to log in without pam_totp checking a code: the PAM stacks of the\n"
    "services, pam_totp's settings and sshd's. Changes nothing.\n"
    "  --root DIR       read DIR/etc/pam.d, DIR/etc/ssh, ... (default /)\n"
    "  --service NAME   check this PAM service (repeatable; default: every login service)\n"
    "  --store          check the PostgreSQL store instead: schema version, the role's\n"
    "                   privileges, TLS with verify-full, round-trip time\n"
    "  --print-store    print the store (files or postgresql) pam_totp reads from its\n"
    "                   config file, read as the module reads it; nothing else\n"
    "  --config FILE    with --print-store: read FILE, as a line's config=FILE makes the\n"
    "                   module do (default: /etc/security/pam_totp.conf, may be missing)\n"
    "  --print-pam-lines  print every pam_totp line libpam may read (every file in\n"
    "                   pam.d, pam.conf, what they include), \"FILE:LINE: MODULE ARG...\"\n"
    "                   with unusual bytes as \\ooo; nothing else\n"
    "  --except PATTERN with --print-pam-lines: do not read the services whose names\n"
    "                   match PATTERN (fnmatch) for themselves; what others include from\n"
    "                   them is still read (repeatable)\n"
    "  --json           print the report as JSON\n"
    "  --help           print this help\n"
    "exit status: 0 nothing found, 1 a way around the code or a weakness, 2 unreadable,\n"
    "             3 (--print-store) the module cannot use the config file,\n"
    "               (--print-pam-lines) a file or an include cannot be read\n";

totp::Result<Options> parse_command_line(int argc, char** argv) {
    static const option kLongOptions[] = {
        {"root", required_argument, nullptr, 'r'},   {"service", required_argument, nullptr, 's'},
        {"json", no_argument, nullptr, 'j'},         {"store", no_argument, nullptr, 'S'},
        {"print-store", no_argument, nullptr, 'P'},  {"config", required_argument, nullptr, 'c'},
        {"help", no_argument, nullptr, 'h'},         {"print-pam-lines", no_argument, nullptr, 'L'},
        {"except", required_argument, nullptr, 'x'}, {nullptr, 0, nullptr, 0},
    };
    Options options;
    optind = 1;
    opterr = 0;
    int option = 0;
    while ((option = getopt_long(argc, argv, "", kLongOptions, nullptr)) != -1) {
        switch (option) {
            case 'r':
                options.root = optarg;
                options.root_given = true;
                if (options.root.empty() || options.root[0] != '/')
                    return totp::make_error(totp::Errc::invalid_argument,
                                            "--root needs an absolute directory");
                break;
            case 's':
                if (std::string(optarg).empty() ||
                    std::string(optarg).find('/') != std::string::npos)
                    return totp::make_error(totp::Errc::invalid_argument,
                                            "--service needs a service name");
                options.services.push_back(optarg);
                break;
            case 'j':
                options.json = true;
                break;
            case 'S':
                options.store = true;
                break;
            case 'P':
                options.print_store = true;
                break;
            case 'L':
                options.print_pam_lines = true;
                break;
            case 'c':
                options.config = optarg;
                break;
            case 'x':
                options.except.push_back(optarg);
                break;
            case 'h':
                options.help = true;
                break;
            default:
                return totp::make_error(
                    totp::Errc::invalid_argument,
                    std::string("unknown or incomplete option: ") + argv[optind - 1]);
        }
    }
    if (options.store && !options.services.empty())
        return totp::make_error(totp::Errc::invalid_argument,
                                "--store checks the database, not services");
    if (options.config && !options.print_store)
        return totp::make_error(totp::Errc::invalid_argument, "--config goes with --print-store");
    if (options.print_store && (options.store || options.json || !options.services.empty()))
        return totp::make_error(totp::Errc::invalid_argument,
                                "--print-store prints one word: no --store, --json or --service");
    if (!options.except.empty() && !options.print_pam_lines)
        return totp::make_error(totp::Errc::invalid_argument,
                                "--except goes with --print-pam-lines");
    if (options.print_pam_lines &&
        (options.print_store || options.store || options.json || !options.services.empty()))
        return totp::make_error(totp::Errc::invalid_argument,
                                "--print-pam-lines prints the lines alone: no other option but "
                                "--root and --except");
    if (optind < argc)
        return totp::make_error(totp::Errc::invalid_argument,
                                std::string("unexpected argument: ") + argv[optind]);
    return options;
}

}  // namespace totp_check
