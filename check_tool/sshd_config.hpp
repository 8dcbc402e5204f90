// SPDX-License-Identifier: Apache-2.0
// sshd's side of the second factor: whether an ssh login goes through the PAM conversation
// that asks for the code. Read from ROOT/etc/ssh/sshd_config and its Includes (--root), or
// from `sshd -T` and the Match blocks of /etc/ssh/sshd_config on the running system.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "report.hpp"

namespace totp_check {

struct SshdSetting {
    std::string value;  // as written after the keyword; keywords are lower case
    std::string file;
    int line = 0;
};

// One set of settings: the global ones, or what one Match block changes.
struct SshdSettings {
    std::string label;  // "sshd", "sshd (Match User alice)"
    std::map<std::string, SshdSetting> values;
    bool may_apply_to_root = true;  // false for a Match block whose User criterion rules root out
};

struct SshdConfig {
    SshdSettings global;
    std::deque<SshdSettings> matches;  // stable addresses while the files are read
};

// false (with a note) when there is no sshd_config under the root.
bool read_sshd_files(const std::string& root, SshdConfig& config, Report& report);
// The global settings from `sshd -T`, the Match blocks from the files; false (with a note)
// when sshd is not installed or `sshd -T` fails.
bool read_sshd_t(SshdConfig& config, Report& report);

void check_sshd(const SshdConfig& config, Report& report);

}  // namespace totp_check
