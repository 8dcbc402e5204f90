// SPDX-License-Identifier: Apache-2.0
// Raw results, one tab-separated line each, appended to the output file; bench/report.py
// turns them into the tables of BENCHMARKS.md.
//
//   latency <users> <procs> <op> <count> <median_us> <p99_us> <mean_us> <ops_per_s> <cpu_us>
//           <unexpected> <rewinds>      (cpu_us: mean user+system CPU per operation)
//   fresh_latency <program> <users> <procs> <op> ...   the same, measured with
//           --fresh-process <program> (its file name: pam_once or pam_once_crypto)
//   rss     <users> <service> <peak_rss_kib>
//   enroll  <users> <totp_s> <google_s> <oath_s> <sync_s>
//   logins  <users> <service> <count>        (every PAM login made, for the syslog check)
#pragma once

#include <cstdio>
#include <string>

#include "enroll.hpp"
#include "runner.hpp"
#include "sandbox.hpp"

namespace bench {

class Report {
  public:
    explicit Report(const std::string& path);
    ~Report();
    Report(const Report&) = delete;
    Report& operator=(const Report&) = delete;

    void enrollment(std::size_t users, const EnrollSeconds& took);
    // `fresh_process`: the --fresh-process program, or empty.
    void latencies(std::size_t users, int procs, const RunResult& run,
                   const std::string& fresh_process);
    void peak_rss(std::size_t users, Service service, long kib);
    void logins(std::size_t users, Service service, std::uint64_t count);

  private:
    FILE* out_ = nullptr;
};

// The q-quantile (0..1) of the samples, by the nearest-rank method; sorts them.
double quantile(std::vector<float>& samples, double q);

}  // namespace bench
