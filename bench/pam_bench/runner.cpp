// SPDX-License-Identifier: Apache-2.0
#include "runner.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <exception>
#include <new>
#include <random>
#include <stdexcept>
#include <string>

#include "enroll.hpp"
#include "fresh_process.hpp"
#include "operations.hpp"
#include "totp/account.hpp"
#include "users.hpp"

namespace bench {
namespace {

constexpr int kWarmupBlock = 4;
constexpr int kReportedFailures = 5;

std::size_t op_index(Op op) {
    return static_cast<std::size_t>(op);
}

// Which PAM service an operation logs in through (the durable update and the user lookup
// use none).
bool uses_service(Op op, Service& service) {
    switch (op) {
        case Op::floor:
            service = Service::floor;
            return true;
        case Op::durable_update:
        case Op::user_lookup:
            return false;
        case Op::totp_valid:
        case Op::totp_wrong:
            service = Service::totp;
            return true;
        case Op::google_valid:
        case Op::google_wrong:
            service = Service::google;
            return true;
        case Op::oath_valid:
        case Op::oath_wrong:
            service = Service::oath;
            return true;
        case Op::candidate_valid:
        case Op::candidate_wrong:
            service = Service::candidate;
            return true;
        case Op::totp_pg_valid:
        case Op::totp_pg_wrong:
            service = Service::totp_pg;
            return true;
    }
    return false;
}

bool is_valid_case(Op op) {
    return op == Op::totp_valid || op == Op::google_valid || op == Op::oath_valid ||
           op == Op::candidate_valid || op == Op::totp_pg_valid;
}

bool is_wrong_case(Op op) {
    return op == Op::totp_wrong || op == Op::google_wrong || op == Op::oath_wrong ||
           op == Op::candidate_wrong || op == Op::totp_pg_wrong;
}

constexpr std::size_t kLedgerSlots = 5;  // services with replay protection

double cpu_micros() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto micros = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_usec);
    };
    return micros(usage.ru_utime) + micros(usage.ru_stime);
}

double monotonic_micros() {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<double>(now.tv_sec) * 1e6 + static_cast<double>(now.tv_nsec) / 1e3;
}

// Lives in a MAP_SHARED mapping: the workers write, the parent reads after they exit.
struct Shared {
    pthread_barrier_t barrier;
    long max_rss_kb[64];
    std::uint64_t logins[64][kServiceCount];
    std::uint64_t count[kOpCount][64];
    std::uint64_t unexpected[kOpCount][64];
    std::uint64_t rewinds[kOpCount][64];
    double busy_micros[kOpCount][64];
    double cpu_micros[kOpCount][64];
    std::size_t capacity;  // samples per (op, worker); the samples follow the struct
};

// The latencies, [op][worker][capacity], right after the Shared header in the mapping.
float* samples_of(Shared* shared) {
    // The mapping is page-aligned and sizeof(Shared) a multiple of alignof(float).
    static_assert(sizeof(Shared) % alignof(float) == 0);
    // cppcheck-suppress invalidPointerCast
    return reinterpret_cast<float*>(reinterpret_cast<char*>(shared) + sizeof(Shared));
}

class SharedMemory {
  public:
    SharedMemory(int procs, std::size_t capacity) {
        size_ =
            sizeof(Shared) + kOpCount * static_cast<std::size_t>(procs) * capacity * sizeof(float);
        void* memory =
            mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (memory == MAP_FAILED) throw std::runtime_error("mmap failed");
        shared_ = new (memory) Shared{};
        shared_->capacity = capacity;
        pthread_barrierattr_t attributes;
        pthread_barrierattr_init(&attributes);
        pthread_barrierattr_setpshared(&attributes, PTHREAD_PROCESS_SHARED);
        pthread_barrier_init(&shared_->barrier, &attributes, static_cast<unsigned>(procs));
        pthread_barrierattr_destroy(&attributes);
    }
    ~SharedMemory() {
        pthread_barrier_destroy(&shared_->barrier);
        munmap(shared_, size_);
    }
    SharedMemory(const SharedMemory&) = delete;
    SharedMemory& operator=(const SharedMemory&) = delete;

    Shared* get() const { return shared_; }

  private:
    Shared* shared_ = nullptr;
    std::size_t size_ = 0;
};

class Worker {
  public:
    Worker(const RunPlan& plan, int id, Shared* shared) : plan_(plan), id_(id), shared_(shared) {
        for (std::size_t u = static_cast<std::size_t>(id); u < plan.users;
             u += static_cast<std::size_t>(plan.procs)) {
            slice_.push_back(u);
        }
        std::mt19937_64 random(plan.seed ^ (0x9e3779b97f4a7c15ULL * (id + 1)));
        std::shuffle(slice_.begin(), slice_.end(), random);
        // Wrong-code and floor logins start half-way round the slice, away from the
        // users the valid logins are about to use.
        for (Op op : kOps) {
            if (!is_valid_case(op)) cursor_[op_index(op)] = slice_.size() / 2;
        }
    }

    void run() {
        if (plan_.fresh_process.empty()) {
            start_pam_wrapper(*plan_.box);
        } else {
            use_private_tmp();
            // A child that dies before reading its code must not kill the worker silently:
            // its exit status says what happened.
            std::signal(SIGPIPE, SIG_IGN);
        }
        wait_for_all();
        for (Op op : kOps) {
            if (plan_.every[op_index(op)] > 0) run_block(op, kWarmupBlock, false);
        }
        for (int round = 0; round < plan_.rounds; ++round) {
            for (std::size_t j = 0; j < kOpCount; ++j) {
                const Op op = kOps[(j + static_cast<std::size_t>(round)) % kOpCount];
                const int every = plan_.every[op_index(op)];
                if (every > 0 && round % every == 0) run_block(op, plan_.block, true);
            }
        }
        rusage usage{};
        getrusage(RUSAGE_SELF, &usage);
        shared_->max_rss_kb[id_] = usage.ru_maxrss;
    }

  private:
    void wait_for_all() { pthread_barrier_wait(&shared_->barrier); }

    void run_block(Op op, int count, bool record) {
        const std::vector<std::size_t> positions = pick(op, count);
        prepare(op, positions);
        wait_for_all();
        for (std::size_t position : positions) time_one(op, position, record);
        wait_for_all();
    }

    // The next `count` users for this operation, each at most once per block.
    std::vector<std::size_t> pick(Op op, int count) {
        std::vector<std::size_t> positions;
        std::size_t& cursor = cursor_[op_index(op)];
        const std::size_t wanted =
            std::min<std::size_t>(static_cast<std::size_t>(count), slice_.size());
        for (std::size_t k = 0; k < wanted; ++k) {
            positions.push_back(cursor);
            cursor = (cursor + 1) % slice_.size();
        }
        return positions;
    }

    std::int64_t& last_step(int slot, std::size_t user) {
        return plan_.last_valid_step[static_cast<std::size_t>(slot) * plan_.users + user];
    }

    static int state_slot(Op op) {
        switch (op) {
            case Op::totp_valid:
                return 0;
            case Op::google_valid:
                return 1;
            case Op::oath_valid:
                return 2;
            case Op::candidate_valid:
                return 3;
            case Op::totp_pg_valid:
                return 4;
            default:
                return -1;
        }
    }

    // Users who already logged in during this time step are rewound (enroll.hpp) before
    // the timed block, so that replay protection does not turn valid logins into failures.
    void prepare(Op op, const std::vector<std::size_t>& positions) {
        const int slot = state_slot(op);
        if (slot < 0) return;
        const auto now_step = static_cast<std::int64_t>(current_step());
        std::vector<std::size_t> stale;
        for (std::size_t position : positions) {
            if (last_step(slot, slice_[position]) >= now_step) stale.push_back(slice_[position]);
        }
        if (stale.empty()) return;
        Service service{};
        uses_service(op, service);
        if (service == Service::totp || service == Service::candidate ||
            service == Service::totp_pg) {
            for (std::size_t user : stale) rewind_totp(*plan_.box, service, user);
        } else if (op == Op::google_valid) {
            for (std::size_t user : stale) rewind_google(*plan_.box, user, plan_.seed);
        } else {
            rewind_oath(*plan_.box, stale, plan_.seed);
        }
        shared_->rewinds[op_index(op)][id_] += stale.size();
    }

    struct Sample {
        bool ok = false;  // as expected: valid code accepted, wrong code refused, no error
        double micros = 0;
        double cpu_micros = 0;
    };

    void time_one(Op op, std::size_t position, bool record) {
        const std::size_t user = slice_[position];
        Service service{};
        Sample sample;
        if (op == Op::user_lookup) {
            sample = time_lookup(user);
        } else if (uses_service(op, service)) {
            sample = time_login(op, service, user);
        } else {
            sample = time_update();
        }
        const std::size_t i = op_index(op);
        if (!sample.ok) shared_->unexpected[i][id_] += 1;
        if (!record) return;
        const std::uint64_t n = shared_->count[i][id_];
        if (n < shared_->capacity) {
            samples_of(shared_)[(i * static_cast<std::size_t>(plan_.procs) +
                                 static_cast<std::size_t>(id_)) *
                                    shared_->capacity +
                                n] = static_cast<float>(sample.micros);
            shared_->count[i][id_] = n + 1;
            shared_->busy_micros[i][id_] += sample.micros;
            shared_->cpu_micros[i][id_] += sample.cpu_micros;
        }
    }

    Sample time_lookup(std::size_t user) {
        const double cpu_start = cpu_micros();
        const std::string name = user_name(user);
        const double start = monotonic_micros();
        const bool ok = totp::find_account(name).ok();
        const double micros = monotonic_micros() - start;
        return {ok, micros, cpu_micros() - cpu_start};
    }

    Sample time_update() {
        const double cpu_start = cpu_micros();
        const std::size_t file =
            (static_cast<std::size_t>(id_) + static_cast<std::size_t>(plan_.procs) * updates_) %
            kFloorFiles;
        const std::string path = plan_.box->floor_dir + "/f" + std::to_string(file);
        const double start = monotonic_micros();
        const bool ok = durable_update(path, updates_++);
        const double micros = monotonic_micros() - start;
        return {ok, micros, cpu_micros() - cpu_start};
    }

    Sample time_login(Op op, Service service, std::size_t user) {
        const std::string name = user_name(user);
        const totp::SecretBytes secret = user_secret(plan_.seed, user);
        const std::uint64_t step = current_step();
        const std::string code =
            is_wrong_case(op) ? wrong_code(secret, step) : code_for_step(secret, step);
        TimedLogin login;
        if (plan_.fresh_process.empty()) {
            const double cpu_start = cpu_micros();
            const double start = monotonic_micros();
            login.rc = pam_login(service_name(service), name.c_str(), code);
            login.micros = monotonic_micros() - start;
            login.cpu_micros = cpu_micros() - cpu_start;
        } else {
            login = login_in_fresh_process(plan_.fresh_process, service_name(service), name, code);
        }
        // Every module refuses a wrong code with PAM_AUTH_ERR; anything else (a module that
        // did not load, a configuration error) is a failure of the run, not a refusal.
        const bool ok = login.rc == (is_wrong_case(op) ? PAM_AUTH_ERR : PAM_SUCCESS);
        if (is_valid_case(op)) last_step(state_slot(op), user) = static_cast<std::int64_t>(step);
        shared_->logins[id_][static_cast<std::size_t>(service)] += 1;
        if (!ok && ++reported_ <= kReportedFailures) {
            std::fprintf(stderr, "pam_bench: worker %d: %s for %s returned %d (%s)\n", id_,
                         op_name(op), name.c_str(), login.rc, pam_strerror(nullptr, login.rc));
        }
        return {ok, login.micros, login.cpu_micros};
    }

    const RunPlan& plan_;
    int id_;
    Shared* shared_;
    std::vector<std::size_t> slice_;
    std::array<std::size_t, kOpCount> cursor_{};
    std::uint64_t updates_ = 0;
    int reported_ = 0;
};

void stop_all(const std::vector<pid_t>& workers) {
    for (pid_t pid : workers) kill(pid, SIGKILL);
    for (pid_t pid : workers) waitpid(pid, nullptr, 0);
}

}  // namespace

ReplayLedger::ReplayLedger(std::size_t users) : size_(kLedgerSlots * users * sizeof(std::int64_t)) {
    void* memory = mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("mmap failed");
    steps_ = static_cast<std::int64_t*>(memory);
    std::fill(steps_, steps_ + kLedgerSlots * users, -1);
}

ReplayLedger::~ReplayLedger() {
    munmap(steps_, size_);
}

const char* op_name(Op op) {
    switch (op) {
        case Op::floor:
            return "floor";
        case Op::durable_update:
            return "durable_update";
        case Op::user_lookup:
            return "user_lookup";
        case Op::totp_valid:
            return "totp/valid";
        case Op::totp_wrong:
            return "totp/wrong";
        case Op::google_valid:
            return "google/valid";
        case Op::google_wrong:
            return "google/wrong";
        case Op::oath_valid:
            return "oath/valid";
        case Op::oath_wrong:
            return "oath/wrong";
        case Op::candidate_valid:
            return "candidate/valid";
        case Op::candidate_wrong:
            return "candidate/wrong";
        case Op::totp_pg_valid:
            return "totp_pg/valid";
        case Op::totp_pg_wrong:
            return "totp_pg/wrong";
    }
    return "";
}

void start_pam_wrapper(const Sandbox& box) {
    const std::string lock_path = box.root + "/pam_wrapper.lock";
    const int lock = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock < 0 || ::flock(lock, LOCK_EX) != 0) throw std::runtime_error("lock " + lock_path);
    const int rc = pam_login(service_name(Service::floor), "root", "");
    ::close(lock);
    if (rc != PAM_SUCCESS) throw std::runtime_error("pam_wrapper setup: floor login failed");
}

RunResult run_workers(const RunPlan& plan) {
    if (plan.procs < 1 || plan.procs > 64) throw std::runtime_error("procs must be 1..64");
    SharedMemory memory(plan.procs, static_cast<std::size_t>(plan.rounds * plan.block));
    Shared* shared = memory.get();

    std::fflush(nullptr);
    std::vector<pid_t> workers;
    for (int id = 0; id < plan.procs; ++id) {
        const pid_t pid = fork();
        if (pid < 0) {
            stop_all(workers);
            throw std::runtime_error("fork failed");
        }
        if (pid == 0) {
            int status = 0;
            try {
                Worker(plan, id, shared).run();
            } catch (const std::exception& error) {
                std::fprintf(stderr, "pam_bench: worker %d: %s\n", id, error.what());
                status = 2;
            }
            std::exit(status);  // a normal exit: pam_wrapper removes its /tmp/pam.X
        }
        workers.push_back(pid);
    }
    for (std::size_t left = workers.size(); left > 0; --left) {
        int status = 0;
        const pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            std::erase(workers, pid);
            stop_all(workers);
            throw std::runtime_error("a worker failed; results discarded");
        }
        std::erase(workers, pid);
    }

    RunResult result;
    for (Op op : kOps) {
        const std::size_t i = op_index(op);
        OpResult& out = result.ops[i];
        out.op = op;
        for (int id = 0; id < plan.procs; ++id) {
            const float* first = samples_of(shared) + (i * static_cast<std::size_t>(plan.procs) +
                                                       static_cast<std::size_t>(id)) *
                                                          shared->capacity;
            out.micros.insert(out.micros.end(), first, first + shared->count[i][id]);
            out.unexpected += shared->unexpected[i][id];
            out.rewinds += shared->rewinds[i][id];
            out.cpu_micros += shared->cpu_micros[i][id];
            if (shared->busy_micros[i][id] > 0) {
                out.throughput +=
                    static_cast<double>(shared->count[i][id]) / shared->busy_micros[i][id] * 1e6;
            }
        }
    }
    for (int id = 0; id < plan.procs; ++id) {
        result.max_worker_rss_kb = std::max(result.max_worker_rss_kb, shared->max_rss_kb[id]);
        for (std::size_t s = 0; s < kServiceCount; ++s) result.logins[s] += shared->logins[id][s];
    }
    return result;
}

}  // namespace bench
