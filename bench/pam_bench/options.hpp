// SPDX-License-Identifier: Apache-2.0
// Command line of pam_bench (see bench/run.sh for how the table is produced).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "sandbox.hpp"

namespace bench {

struct Options {
    std::size_t users = 100;
    std::vector<int> procs = {1, 2, 8};
    int samples = 1000;       // timed operations per (operation, P), all workers together
    int oath_samples = 1000;  // the same for pam_oath, which gets slow with many users
    int block = 4;            // logins per worker in one block of one operation
    int rss_logins = 200;
    std::string data_dir;  // where the sandboxes live (kept between runs)
    std::string module_path;
    std::string config_template;
    std::string candidate_module;  // a second pam_totp.so measured side by side
    // Authenticators per candidate user (--candidate-authenticators): the same module as
    // --candidate, with 8, measures what several authenticators per user cost.
    int candidate_authenticators = 1;
    PgStore pg;  // --pg-dsn, --pg-key-file, --pg-password-file: adds Service::totp_pg
    std::string out;
    std::optional<std::uint64_t> seed;
    std::string only;  // run just this operation (e.g. "totp/valid"), for bench/profile.sh
    // --fresh-process bench/pam_once: each login in a new process (fresh_process.hpp)
    std::string fresh_process;
    // Internal: the peak-RSS probe process.
    std::optional<Service> probe;
    std::string sandbox;
};

// Throws std::invalid_argument with a usage message.
Options parse_options(int argc, char** argv);

}  // namespace bench
