// SPDX-License-Identifier: Apache-2.0
#include "probe.hpp"

#include <security/pam_appl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "enroll.hpp"
#include "operations.hpp"
#include "runner.hpp"
#include "users.hpp"

namespace bench {
namespace {

const char* probe_argument(Service service) {
    switch (service) {
        case Service::floor:
            return "floor";
        case Service::totp:
            return "totp";
        case Service::google:
            return "google";
        case Service::oath:
            return "oath";
        case Service::candidate:
            return "candidate";
        case Service::totp_pg:
            return "totp_pg";
    }
    return "";
}

// Users spread over the whole store; rewound first, since the main run may have used
// them in this time step.
std::vector<std::size_t> probe_users(const ProbeSpec& spec) {
    // 7919 is prime and shares no factor with the user counts we run, so no repeats.
    const std::size_t count = std::min(static_cast<std::size_t>(spec.logins), spec.users);
    std::vector<std::size_t> users;
    for (std::size_t k = 0; k < count; ++k) {
        users.push_back((k * 7919 + 13) % spec.users);
    }
    return users;
}

}  // namespace

long probe_peak_rss_kb(const ProbeSpec& spec) {
    const std::string users = std::to_string(spec.users);
    const std::string seed = std::to_string(spec.seed);
    const std::string logins = std::to_string(spec.logins);
    std::fflush(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("fork failed");
    if (pid == 0) {
        execl("/proc/self/exe", "pam_bench", "--probe", probe_argument(spec.service), "--sandbox",
              spec.box->root.c_str(), "--users", users.c_str(), "--seed", seed.c_str(),
              "--probe-logins", logins.c_str(), static_cast<char*>(nullptr));
        _exit(127);
    }
    int status = 0;
    rusage usage{};
    if (wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(std::string("RSS probe for ") + service_label(spec.service) +
                                 " failed");
    }
    return usage.ru_maxrss;
}

int run_probe(const ProbeSpec& spec) {
    const std::vector<std::size_t> users = probe_users(spec);
    switch (spec.service) {
        case Service::floor:
            break;
        case Service::totp:
        case Service::candidate:
        case Service::totp_pg:
            for (std::size_t user : users) rewind_totp(*spec.box, spec.service, user);
            break;
        case Service::google:
            for (std::size_t user : users) rewind_google(*spec.box, user, spec.seed);
            break;
        case Service::oath:
            rewind_oath(*spec.box, users, spec.seed);
            break;
    }
    start_pam_wrapper(*spec.box);
    int failures = 0;
    for (std::size_t user : users) {
        const std::string code = code_for_step(user_secret(spec.seed, user), current_step());
        if (pam_login(service_name(spec.service), user_name(user).c_str(), code) != PAM_SUCCESS) {
            ++failures;
        }
    }
    if (failures > 0) {
        std::fprintf(stderr, "pam_bench: probe %s: %d of %zu logins failed\n",
                     service_label(spec.service), failures, users.size());
    }
    return failures == 0 ? 0 : 1;
}

}  // namespace bench
