// SPDX-License-Identifier: Apache-2.0
// pam_bench --fresh-process: every login in a new process, as on a server, where sshd
// re-executes itself for each connection and sudo, su and login are started for each use,
// so every module is loaded (with its libraries) by a process that has never loaded it.
//
// The process is bench/pam_once (built after those programs); it times its own login from
// just before pam_start to just after pam_end, and that window is the sample: creating the
// process is not counted, nor pam_wrapper's set-up, which copies the service files into
// /tmp/pam.X in its library constructor, before pam_once's main (see pam_once.c).
#pragma once

#include <string>

namespace bench {

struct TimedLogin {
    int rc = 0;             // pam_authenticate's result (pam_start's, if that failed)
    double micros = 0;      // wall time of the login
    double cpu_micros = 0;  // user + system CPU time of the login process over that time
};

// Runs `program SERVICE USER` with the code on its stdin, in this process's environment
// (pam_wrapper and nss_wrapper preloaded, the sandbox's paths). Throws if the program
// fails or answers something else than its one line.
TimedLogin login_in_fresh_process(const std::string& program, const char* service,
                                  const std::string& user, const std::string& code);

// Gives this process and its children a /tmp of their own (a tmpfs in a new mount
// namespace; needs root). pam_wrapper picks its /tmp/pam.X by checking which names are
// free and then creating one, so two logins starting at the same instant in two workers
// could both pick the same directory, and the first to finish would delete it.
void use_private_tmp();

}  // namespace bench
