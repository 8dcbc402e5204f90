// SPDX-License-Identifier: Apache-2.0
// Fault injection by link-time wrapping (-Wl,--wrap=open,...): while armed, the calls the
// module and core make to the system fail at the points a plan names. Unarmed, every
// wrapper passes straight through, so the fuzzer's own I/O is never touched.
//
// Also answers getpwnam_r/getgrnam_r/getgrouplist from a fixed table (the host's users
// are never consulted) and makes clock_gettime(CLOCK_REALTIME) return a chosen time.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace faults {

enum class Action : std::uint8_t {
    fail,       // the call fails with `error`
    interrupt,  // EINTR (a correct caller retries)
    short_io,   // pread/pwrite move only part of the bytes (then succeed)
};

struct Fault {
    // Which call: the call-th intercepted call made while armed, or, when `only` names a
    // function ("pwrite"), the call-th call of that function.
    unsigned call = 0;
    const char* only = nullptr;
    Action action = Action::fail;
    int error = 0;
};

struct Plan {
    std::vector<Fault> faults;
    std::int64_t now = 0;
};

struct User {
    std::string name;
    uid_t uid;
    gid_t gid;
    std::string home;
    std::vector<gid_t> groups;  // supplementary
};

struct Group {
    std::string name;
    gid_t gid;
};

// The names `only` may take.
extern const char* const kWrappedCalls[];
extern const std::size_t kWrappedCallCount;

void set_accounts(std::vector<User> users, std::vector<Group> groups);

void arm(const Plan& plan);
void disarm();

struct Report {
    unsigned calls = 0;             // intercepted calls made while armed
    bool failed = false;            // some call was made to fail (not EINTR, not a short transfer)
    bool write_failed = false;      // ... and it was one that writes the store
    std::vector<std::string> hits;  // "pwrite#3:EIO" for each injected fault (for messages)
};
const Report& report();

}  // namespace faults
