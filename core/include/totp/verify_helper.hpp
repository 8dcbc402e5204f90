// SPDX-License-Identifier: Apache-2.0
// The protocol between pam_totp.so run by a caller that is not root and the setuid helper
// totp-verify (verify_helper/, totp-verify(8)), as Linux-PAM's pam_unix talks to
// unix_chkpwd: argv[1] is the user name; standard input carries the typed code (never
// argv or the environment, which other users can read in /proc), at most
// kMaxHelperInput bytes, then end of file; standard output gets one answer and the exit
// status says the same.
#pragma once

#include <chrono>
#include <cstddef>
#include <string_view>

namespace totp {

inline constexpr std::size_t kMaxHelperInput = 128;
inline constexpr std::string_view kHelperYes = "yes\n";
inline constexpr std::string_view kHelperNo = "no\n";

enum class HelperExit : int {
    accepted = 0,     // "yes": the code was right, and its use is recorded
    refused = 1,      // "no": wrong, replayed, locked out or not enrolled (recorded as such)
    bad_request = 2,  // usage, a terminal on stdin, or another user's code: nothing examined
    failed = 3,       // configuration, account lookup or store failure: nothing accepted
};

// How long the module waits for the helper's answer before it kills it and fails closed.
inline constexpr std::chrono::seconds kHelperDeadline{75};
// The helper's own bound on its run (alarm(2)), below the module's deadline. With the file
// store the helper needs at most the lock deadline (file_lock.hpp); with PostgreSQL, libpq's
// connect_timeout (store_connect_timeout, up to 60 s) for each host of a DSN that lists
// several, then the exchange deadline (8 s, pg_store.cpp). A single host stays below this; a
// DSN of several unreachable hosts can outlast it, and SIGALRM then ends the helper without a
// log line of its own: the module fails closed and logs that the helper was killed.
inline constexpr std::chrono::seconds kHelperSelfDeadline{70};

}  // namespace totp
