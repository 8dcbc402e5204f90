// SPDX-License-Identifier: Apache-2.0
// The two timed operations: one full PAM login, and the bare durable update it is
// compared with.
#pragma once

#include <cstdint>
#include <string>

namespace bench {

// pam_start -> pam_authenticate -> pam_end, answering every prompt with `code`.
// Returns pam_authenticate's result.
int pam_login(const char* service, const char* user, const std::string& code);

// The physical floor of recording a login durably, with no PAM and no crypto: open,
// flock, pread and pwrite of 512 bytes (alternating between two 4 KiB slots, like the
// state file), fdatasync, close. False if a system call failed.
bool durable_update(const std::string& path, std::uint64_t counter);

}  // namespace bench
