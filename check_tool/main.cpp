// SPDX-License-Identifier: Apache-2.0
// totp-check: reads the system's PAM, pam_totp and sshd configuration and reports every
// path to a successful login that does not pass the verification code. Reads only.
#include <iostream>

#include "command_line.hpp"
#include "pam_lines.hpp"
#include "pam_stack.hpp"
#include "report.hpp"
#include "sshd_config.hpp"
#include "stack_checks.hpp"
#include "store_check.hpp"
#include "totp_config.hpp"

namespace {

// The module would refuse every login because of the config file (--print-store), or a
// PAM file cannot be read (--print-pam-lines): what it selects is unknown.
constexpr int kExitUnusableConfig = 3;

int print(const totp_check::Report& report, bool json) {
    if (json) {
        totp_check::print_json(report, std::cout);
    } else {
        totp_check::print_text(report, std::cout);
    }
    return totp_check::exit_status(report);
}

// --print-store: one word on stdout for remove-check, or why the config file cannot say.
int print_store(const totp_check::Options& options) {
    const totp::Result<std::string> store =
        totp_check::configured_store(options.root, options.config);
    if (!store) {
        std::cerr << "totp-check: " << store.error().message << "\n";
        return kExitUnusableConfig;
    }
    std::cout << *store << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace totp_check;
    const totp::Result<Options> options = parse_command_line(argc, argv);
    if (!options) {
        std::cerr << "totp-check: " << options.error().message << "\n" << kUsage;
        return 2;
    }
    if (options->help) {
        std::cout << kUsage;
        return 0;
    }

    if (options->print_store) return print_store(*options);
    if (options->print_pam_lines) {
        return print_pam_lines(PamConfigDir(options->root), options->except, std::cout, std::cerr)
                   ? 0
                   : kExitUnusableConfig;
    }

    Report report;
    if (options->store) {
        check_store(options->root, report);
        return print(report, options->json);
    }
    const PamConfigDir pam_dir(options->root);
    TotpConfigs configs(options->root, report);
    check_module_dir(pam_dir, report);
    check_login_stacks(pam_dir, report);
    const std::vector<std::string> services =
        options->services.empty() ? services_to_check(pam_dir, report) : options->services;
    for (const std::string& service : services) check_service(pam_dir, service, configs, report);
    configs.check_files();

    SshdConfig sshd;
    const bool sshd_read = options->root_given ? read_sshd_files(options->root, sshd, report)
                                               : read_sshd_t(sshd, report);
    if (sshd_read) check_sshd(sshd, report);

    return print(report, options->json);
}
