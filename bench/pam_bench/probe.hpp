// SPDX-License-Identifier: Apache-2.0
// Peak memory of a login: a fresh process (this program, exec'ed again, so nothing the
// parent allocated counts) performs a number of valid logins through one service, and
// the parent reads its peak RSS from wait4().
#pragma once

#include <cstddef>
#include <cstdint>

#include "sandbox.hpp"

namespace bench {

struct ProbeSpec {
    const Sandbox* box = nullptr;
    Service service = Service::floor;
    std::size_t users = 0;
    std::uint64_t seed = 0;
    int logins = 0;
};

// Parent side: runs the probe process; returns its peak RSS in KiB.
long probe_peak_rss_kb(const ProbeSpec& spec);

// Child side (pam_bench --probe ...): exit status 0 if every login succeeded.
int run_probe(const ProbeSpec& spec);

}  // namespace bench
