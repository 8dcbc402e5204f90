// SPDX-License-Identifier: Apache-2.0
#include "report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <stdexcept>

namespace bench {

Report::Report(const std::string& path) : out_(std::fopen(path.c_str(), "ae")) {
    if (out_ == nullptr) throw std::runtime_error("cannot open " + path);
}

Report::~Report() {
    std::fclose(out_);
}

double quantile(std::vector<float>& samples, double q) {
    if (samples.empty()) return 0;
    std::sort(samples.begin(), samples.end());
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples.size())));
    return samples[std::clamp<std::size_t>(rank, 1, samples.size()) - 1];
}

void Report::enrollment(std::size_t users, const EnrollSeconds& took) {
    std::fprintf(out_, "enroll\t%zu\t%.3f\t%.3f\t%.3f\t%.3f\n", users, took.totp, took.google,
                 took.oath, took.sync);
    std::fflush(out_);
}

void Report::latencies(std::size_t users, int procs, const RunResult& run,
                       const std::string& fresh_process) {
    const std::string kind =
        fresh_process.empty()
            ? "latency"
            : "fresh_latency\t" + std::filesystem::path(fresh_process).filename().string();
    for (const OpResult& result : run.ops) {
        std::vector<float> samples = result.micros;
        if (samples.empty()) continue;
        const double mean = std::accumulate(samples.begin(), samples.end(), 0.0) /
                            static_cast<double>(samples.size());
        const double median = quantile(samples, 0.5);
        const double p99 = quantile(samples, 0.99);
        const double cpu = result.cpu_micros / static_cast<double>(samples.size());
        std::fprintf(out_, "%s\t%zu\t%d\t%s\t%zu\t%.1f\t%.1f\t%.1f\t%.0f\t%.1f\t%llu\t%llu\n",
                     kind.c_str(), users, procs, op_name(result.op), samples.size(), median, p99,
                     mean, result.throughput, cpu,
                     static_cast<unsigned long long>(result.unexpected),
                     static_cast<unsigned long long>(result.rewinds));
    }
    std::fflush(out_);
}

void Report::peak_rss(std::size_t users, Service service, long kib) {
    std::fprintf(out_, "rss\t%zu\t%s\t%ld\n", users, service_name(service), kib);
    std::fflush(out_);
}

void Report::logins(std::size_t users, Service service, std::uint64_t count) {
    std::fprintf(out_, "logins\t%zu\t%s\t%llu\n", users, service_name(service),
                 static_cast<unsigned long long>(count));
    std::fflush(out_);
}

}  // namespace bench
