// SPDX-License-Identifier: Apache-2.0
// pam_totp's own settings as each pam_totp line gets them (the config file, then the line's
// arguments, like the module), and what they say about who gets in without a code: the
// file's safety and keys, nullok and the accounts it lets in, the state directory.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "pam_stack.hpp"
#include "report.hpp"
#include "totp/config.hpp"

namespace totp_check {

class TotpConfigs {
  public:
    TotpConfigs(std::string root, Report& report) : root_(std::move(root)), report_(report) {}

    // The settings a pam_totp line runs with; problems with its arguments are reported.
    totp::Settings line_settings(const Handler& handler);

    // The default config file (even if no line uses it: totp-enroll reads it too) and the
    // rollout mode, and the state directory, nullok and enrollments of every config file read.
    void check_files();

  private:
    // Settings with nullok from a line's arguments, and the first line that has them.
    struct NullokLine {
        totp::Settings settings;
        Source source;
    };

    const totp::Settings& file_settings(const std::string& path, bool explicit_path);
    void check_state_dir(const totp::Settings& settings);
    void report_nullok_with_secret_path(const totp::Settings& settings, const Handler& handler,
                                        const std::string& config_path);
    void count_unenrolled(const totp::Settings& settings, const std::string& file, int line);
    std::string under_root(const std::string& path) const;

    std::string root_;
    Report& report_;
    std::map<std::string, totp::Settings> files_;
    std::set<std::string> reported_lines_;
    std::vector<NullokLine> nullok_lines_;
};

}  // namespace totp_check
