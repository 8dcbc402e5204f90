// SPDX-License-Identifier: Apache-2.0
// pam_bench: full PAM logins through pam_totp and its peers, side by side in one run.
//
//   1. build a private sandbox on the measured disk and enroll N users in every service;
//   2. for each P, run P worker processes through interleaved blocks of every operation
//      (with --fresh-process, each login in a new process: fresh_process.hpp);
//   3. measure each service's peak RSS in a fresh process (not with --fresh-process);
//   4. append raw results to --out (bench/report.py makes the table).
#include <cstdio>
#include <exception>
#include <random>

#include "enroll.hpp"
#include "options.hpp"
#include "probe.hpp"
#include "report.hpp"
#include "runner.hpp"
#include "sandbox.hpp"

namespace {

using namespace bench;

std::uint64_t fresh_seed() {
    std::random_device device;
    return (static_cast<std::uint64_t>(device()) << 32) | device();
}

RunPlan plan_for(const Options& options, const Sandbox& box, std::uint64_t seed, int procs,
                 const ReplayLedger& ledger) {
    RunPlan plan;
    plan.last_valid_step = ledger.steps();
    plan.box = &box;
    plan.users = options.users;
    plan.procs = procs;
    plan.seed = seed;
    plan.fresh_process = options.fresh_process;
    // About the same number of samples for every P: blocks of options.block logins per
    // worker, as many rounds as that takes. pam_oath may sit out rounds (--oath-samples).
    plan.block = options.block;
    plan.rounds = std::max(1, options.samples / (options.block * procs));
    for (Op op : kOps) plan.every[static_cast<std::size_t>(op)] = 1;
    const int oath_every =
        options.oath_samples == 0 ? 0 : std::max(1, options.samples / options.oath_samples);
    plan.every[static_cast<std::size_t>(Op::oath_valid)] = oath_every;
    plan.every[static_cast<std::size_t>(Op::oath_wrong)] = oath_every;
    if (options.candidate_module.empty()) {
        plan.every[static_cast<std::size_t>(Op::candidate_valid)] = 0;
        plan.every[static_cast<std::size_t>(Op::candidate_wrong)] = 0;
    }
    if (!options.pg.enabled()) {
        plan.every[static_cast<std::size_t>(Op::totp_pg_valid)] = 0;
        plan.every[static_cast<std::size_t>(Op::totp_pg_wrong)] = 0;
    }
    // The bare operations involve no PAM and no module: nothing to load in a new process.
    if (!options.fresh_process.empty()) {
        plan.every[static_cast<std::size_t>(Op::durable_update)] = 0;
        plan.every[static_cast<std::size_t>(Op::user_lookup)] = 0;
    }
    if (!options.only.empty()) {
        for (Op op : kOps) {
            if (options.only != op_name(op)) plan.every[static_cast<std::size_t>(op)] = 0;
        }
    }
    return plan;
}

// Adds the probes' logins to `logins`.
void measure_peak_rss(const Options& options, const Sandbox& box, std::uint64_t seed,
                      Report& report, std::array<std::uint64_t, kServiceCount>& logins) {
    std::fprintf(stderr, "pam_bench: %zu users: peak RSS probes\n", options.users);
    for (Service service : kServices) {
        if (service == Service::oath && options.oath_samples == 0) continue;
        if (service == Service::candidate && options.candidate_module.empty()) continue;
        // The probe process knows only the sandbox's path, not the database.
        if (service == Service::totp_pg) continue;
        const ProbeSpec probe{&box, service, options.users, seed, options.rss_logins};
        report.peak_rss(options.users, service, probe_peak_rss_kb(probe));
        logins[static_cast<std::size_t>(service)] +=
            std::min<std::size_t>(static_cast<std::size_t>(options.rss_logins), options.users);
    }
}

int run_benchmark(const Options& options) {
    const std::uint64_t seed = options.seed.value_or(fresh_seed());
    const Sandbox box = create_sandbox({.data_dir = options.data_dir,
                                        .module_path = options.module_path,
                                        .config_template = options.config_template,
                                        .candidate_module = options.candidate_module,
                                        .pg = options.pg,
                                        .users = options.users});
    std::fprintf(stderr, "pam_bench: %zu users in %s: enrolling\n", options.users,
                 box.root.c_str());
    Report report(options.out);
    const bool candidate = !options.candidate_module.empty();
    const bool pg = options.pg.enabled();
    const bool fresh = !options.fresh_process.empty();
    const EnrollSeconds took =
        enroll(box, options.users, seed, candidate, options.candidate_authenticators, pg);
    if (!fresh) report.enrollment(options.users, took);
    if (pg) std::fprintf(stderr, "pam_bench: database enrollment took %.2f s\n", took.pg);

    const ReplayLedger ledger(options.users);
    std::array<std::uint64_t, kServiceCount> logins{};
    for (int procs : options.procs) {
        std::fprintf(stderr, "pam_bench: %zu users, %d process(es): measuring\n", options.users,
                     procs);
        const RunResult run = run_workers(plan_for(options, box, seed, procs, ledger));
        report.latencies(options.users, procs, run, options.fresh_process);
        for (std::size_t s = 0; s < logins.size(); ++s) logins[s] += run.logins[s];
    }

    if (!options.only.empty()) return 0;
    if (!fresh) measure_peak_rss(options, box, seed, report, logins);
    for (Service service : kServices) {
        if (service == Service::candidate && !candidate) continue;
        if (service == Service::totp_pg && !pg) continue;
        report.logins(options.users, service, logins[static_cast<std::size_t>(service)]);
    }
    return 0;
}

int run_probe_process(const Options& options) {
    const Sandbox box = sandbox_at(options.sandbox);
    use_sandbox_environment(box);
    return run_probe(
        {&box, *options.probe, options.users, options.seed.value_or(0), options.rss_logins});
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options options = parse_options(argc, argv);
        require_wrappers();
        return options.probe ? run_probe_process(options) : run_benchmark(options);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "pam_bench: %s\n", error.what());
        return 1;
    }
}
