// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

#include <cstring>
#include <sstream>
#include <stdexcept>

namespace bench {
namespace {

constexpr const char* kUsage =
    "usage: pam_bench --users N [--procs 1,2,8] [--samples S] [--oath-samples S]\n"
    "                 [--block B] [--rss-logins K] [--seed X]\n"
    "                 [--only OP] [--candidate other/pam_totp.so] [--candidate-authenticators K]\n"
    "                 [--fresh-process pam_once]\n"
    "                 [--pg-dsn DSN --pg-key-file F --pg-password-file F]\n"
    "                 --module pam_totp.so --config pam_totp.conf --data-dir DIR --out "
    "results.tsv\n"
    "Run it through bench/run.sh: it needs pam_wrapper and nss_wrapper preloaded.";

long number(const std::string& text, long low, long high) {
    std::size_t used = 0;
    long value = 0;
    try {
        value = std::stol(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || value < low || value > high) {
        throw std::invalid_argument("bad number '" + text + "'\n" + kUsage);
    }
    return value;
}

Service service_argument(const std::string& text) {
    if (text == "floor") return Service::floor;
    if (text == "totp") return Service::totp;
    if (text == "google") return Service::google;
    if (text == "oath") return Service::oath;
    if (text == "candidate") return Service::candidate;
    if (text == "totp_pg") return Service::totp_pg;
    throw std::invalid_argument("unknown service '" + text + "'");
}

}  // namespace

Options parse_options(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string flag = argv[i];
        if (i + 1 >= argc) throw std::invalid_argument("missing value for " + flag + "\n" + kUsage);
        const std::string value = argv[++i];
        if (flag == "--users") {
            options.users = static_cast<std::size_t>(number(value, 1, 10'000'000));
        } else if (flag == "--procs") {
            options.procs.clear();
            std::istringstream list(value);
            for (std::string item; std::getline(list, item, ',');) {
                options.procs.push_back(static_cast<int>(number(item, 1, 64)));
            }
        } else if (flag == "--samples") {
            options.samples = static_cast<int>(number(value, 1, 10'000'000));
        } else if (flag == "--oath-samples") {
            options.oath_samples = static_cast<int>(number(value, 0, 10'000'000));
        } else if (flag == "--block") {
            options.block = static_cast<int>(number(value, 1, 10'000));
        } else if (flag == "--rss-logins" || flag == "--probe-logins") {
            options.rss_logins = static_cast<int>(number(value, 1, 1'000'000));
        } else if (flag == "--data-dir") {
            options.data_dir = value;
        } else if (flag == "--module") {
            options.module_path = value;
        } else if (flag == "--config") {
            options.config_template = value;
        } else if (flag == "--out") {
            options.out = value;
        } else if (flag == "--seed") {
            options.seed = static_cast<std::uint64_t>(std::stoull(value));
        } else if (flag == "--probe") {
            options.probe = service_argument(value);
        } else if (flag == "--candidate") {
            options.candidate_module = value;
        } else if (flag == "--candidate-authenticators") {
            options.candidate_authenticators = static_cast<int>(number(value, 1, 16));
        } else if (flag == "--pg-dsn") {
            options.pg.dsn = value;
        } else if (flag == "--pg-key-file") {
            options.pg.key_file = value;
        } else if (flag == "--pg-password-file") {
            options.pg.password_file = value;
        } else if (flag == "--fresh-process") {
            options.fresh_process = value;
        } else if (flag == "--only") {
            options.only = value;
        } else if (flag == "--sandbox") {
            options.sandbox = value;
        } else {
            throw std::invalid_argument("unknown option " + flag + "\n" + kUsage);
        }
    }
    if (!options.probe && (options.module_path.empty() || options.config_template.empty() ||
                           options.out.empty() || options.data_dir.empty())) {
        throw std::invalid_argument(
            std::string("--module, --config, --data-dir and --out are required\n") + kUsage);
    }
    return options;
}

}  // namespace bench
