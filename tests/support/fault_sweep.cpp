// SPDX-License-Identifier: Apache-2.0
#include "fault_sweep.hpp"

#include <sys/fsuid.h>
#include <syslog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "totp/user_state.hpp"

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
extern "C" {
#include <cmocka.h>
}
// clang-format on

namespace hardening {
namespace {

// Transfers and flock are retried on EINTR, and transfers continue after a short one.
bool retried_call(const faults::Fault& fault) {
    const std::string name = fault.only;
    if (fault.action == faults::Action::short_io) return name == "pread" || name == "pwrite";
    if (fault.action == faults::Action::interrupt)
        return name == "pread" || name == "pwrite" || name == "flock";
    return false;
}

bool logged_an_error(const Attempt& attempt) {
    return std::any_of(attempt.priorities.begin(), attempt.priorities.end(),
                       [](int priority) { return priority <= LOG_ERR; });
}

std::string describe(const char* name, const faults::Fault& fault) {
    const char* action = fault.action == faults::Action::short_io    ? "short transfer"
                         : fault.action == faults::Action::interrupt ? "EINTR"
                                                                     : strerrorname_np(fault.error);
    return std::string(name) + ": call " + std::to_string(fault.call) + " of " + fault.only +
           " -> " + action;
}

bool same_secret(const totp::UserState& a, const totp::UserState& b) {
    if (a.authenticators.size() != 1 || b.authenticators.size() != 1) return false;
    const totp::SecretBytes& x = a.authenticators.front().secret;
    const totp::SecretBytes& y = b.authenticators.front().secret;
    return x.size() == y.size() && std::equal(x.data(), x.data() + x.size(), y.data());
}

void check_one_fault(const Sweep& sweep, const faults::Fault& fault, const totp::UserState& before,
                     const Attempt& baseline, const Attempt& outcome) {
    const std::string what = describe(sweep.name, fault);
    const auto after = totp::decode_file(read_file(state_path(sweep.home_layout)));
    if (!after) fail_msg("%s: state file no longer decodes", what.c_str());
    const totp::UserState& now = after->state;
    if (!same_secret(before, now)) fail_msg("%s: secret changed", what.c_str());
    if (outcome.accepted) {
        if (outcome.report.write_failed)
            fail_msg("%s: accepted although the store write failed", what.c_str());
        const bool consumed =
            now.authenticators.front().last_step > before.authenticators.front().last_step ||
            now.recovery.size() < before.recovery.size();
        if (!consumed || now.failures != 0)
            fail_msg("%s: accepted but nothing consumed on disk", what.c_str());
    }
    if (retried_call(fault) && outcome.result != baseline.result)
        fail_msg("%s: a retried call changed the result (%d, not %d)", what.c_str(), outcome.result,
                 baseline.result);
    if (baseline.accepted && !outcome.accepted && !logged_an_error(outcome))
        fail_msg("%s: refused without an error in the log", what.c_str());
    if (static_cast<uid_t>(setfsuid(static_cast<uid_t>(-1))) != geteuid())
        fail_msg("%s: filesystem identity not restored", what.c_str());
}

}  // namespace

void sweep(const Sweep& sweep, int expected) {
    totp::UserState state = sweep.enroll();
    const Attempt baseline = sweep.attempt(state, {{}, kNow});
    if (baseline.result != expected) {
        print_log(baseline);
        fail_msg("%s: result %d without faults, expected %d", sweep.name, baseline.result,
                 expected);
    }
    const faults::Action actions[] = {faults::Action::fail, faults::Action::interrupt,
                                      faults::Action::short_io};
    const int errors[] = {EIO, ENOSPC, EROFS, EACCES};
    int runs = 0;
    for (std::size_t f = 0; f < faults::kWrappedCallCount; ++f) {
        for (unsigned occurrence = 0; occurrence < 3; ++occurrence) {
            for (faults::Action action : actions) {
                for (int error : errors) {
                    if (action != faults::Action::fail && error != EIO) continue;
                    const faults::Fault fault{occurrence, faults::kWrappedCalls[f], action, error};
                    state = sweep.enroll();
                    const Attempt outcome = sweep.attempt(state, {{fault}, kNow});
                    if (outcome.report.hits.empty()) continue;  // no such call
                    ++runs;
                    check_one_fault(sweep, fault, state, baseline, outcome);
                }
            }
        }
    }
    std::printf("%s: %d fault runs\n", sweep.name, runs);
    assert_true(runs > 10);
}

}  // namespace hardening
