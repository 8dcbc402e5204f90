// SPDX-License-Identifier: Apache-2.0
// The rollout state file, pam_totp.rollout next to pam_totp.conf: whether users who have not
// enrolled may still log in with their password alone. It is state, not configuration: the
// package writes it once on first install, `totp-enroll enforce` and `totp-enroll rollout`
// change it, and no conffile prompt or reinstall can bring an old value back.
//
// Format: lines starting with '#', blank lines, and exactly one line "rollout" or "enforce".
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "totp/config.hpp"

namespace totp {

inline constexpr const char* kRolloutFileName = "pam_totp.rollout";

// The rollout file in the directory of `config_path`.
std::string rollout_path(std::string_view config_path);

// "rollout" or "enforce" (the file's line); "not set" for Rollout::unset.
std::string_view rollout_name(Rollout rollout);

// Reads the rollout file at `path`, opened and checked like the config file (absolute path,
// no symlink, a regular file owned by root, not writable by group or other). A missing file
// is Rollout::unset. A file that cannot be trusted or holds anything but comments, blank
// lines and one mode line adds a security-relevant problem naming the file (and the line)
// and gives Rollout::unset.
Rollout read_rollout_file(const std::string& path, std::vector<ConfigProblem>& problems);

// What the file holds for `rollout`: a comment saying what it means, then the mode line.
std::string rollout_file_text(Rollout rollout);

}  // namespace totp
