// SPDX-License-Identifier: Apache-2.0
// P worker processes logging in side by side. Every round runs one block of each
// operation, in an order that rotates from round to round, and all workers run the same
// block at the same time (a barrier before and after), so each operation is measured
// under P-way concurrency of itself, and every service sees the same machine conditions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sandbox.hpp"

namespace bench {

enum class Op {
    floor,
    durable_update,
    user_lookup,
    totp_valid,
    totp_wrong,
    google_valid,
    google_wrong,
    oath_valid,
    oath_wrong,
    candidate_valid,
    candidate_wrong,
    totp_pg_valid,
    totp_pg_wrong,
};
inline constexpr std::size_t kOpCount = 13;
inline constexpr std::array<Op, kOpCount> kOps = {
    Op::floor,           Op::durable_update, Op::user_lookup,   Op::totp_valid, Op::totp_wrong,
    Op::google_valid,    Op::google_wrong,   Op::oath_valid,    Op::oath_wrong, Op::candidate_valid,
    Op::candidate_wrong, Op::totp_pg_valid,  Op::totp_pg_wrong,
};

const char* op_name(Op op);  // e.g. "totp/valid"

struct RunPlan {
    const Sandbox* box = nullptr;
    std::size_t users = 0;
    int procs = 1;
    int rounds = 100;
    int block = 4;                      // timed operations per worker per block
    std::array<int, kOpCount> every{};  // an operation runs in every n-th round; 0 = never
    std::uint64_t seed = 0;
    // Shared by every worker of every run (a MAP_SHARED array from ReplayLedger): the
    // time step of each user's last valid login, per service with replay protection.
    std::int64_t* last_valid_step = nullptr;
    // bench/pam_once: every login in a new process of it (fresh_process.hpp). Empty: the
    // workers log in themselves, loading each module once and keeping it.
    std::string fresh_process;
};

// Remembers across runs and processes which time step each user last logged in with.
class ReplayLedger {
  public:
    explicit ReplayLedger(std::size_t users);
    ~ReplayLedger();
    ReplayLedger(const ReplayLedger&) = delete;
    ReplayLedger& operator=(const ReplayLedger&) = delete;

    std::int64_t* steps() const { return steps_; }

  private:
    std::int64_t* steps_ = nullptr;
    std::size_t size_ = 0;
};

struct OpResult {
    Op op = Op::floor;
    std::vector<float> micros;     // every timed sample of every worker
    double throughput = 0;         // operations/s with all workers doing this operation
    double cpu_micros = 0;         // user + system CPU time of the timed operations, in total
    std::uint64_t unexpected = 0;  // valid code refused, wrong code accepted, update failed
    std::uint64_t rewinds = 0;     // users put back to "no login this step" (see enroll.hpp)
};

struct RunResult {
    std::array<OpResult, kOpCount> ops;
    std::array<std::uint64_t, kServiceCount> logins{};  // per Service, warm-up included
    long max_worker_rss_kb = 0;
};

RunResult run_workers(const RunPlan& plan);

// Each worker sets up pam_wrapper once (it copies the service files into its private
// /tmp/pam.X); concurrent setups can clash, so they take turns.
void start_pam_wrapper(const Sandbox& box);

}  // namespace bench
