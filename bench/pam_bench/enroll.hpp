// SPDX-License-Identifier: Apache-2.0
// Enrolls the users in each service's own store, written directly (no PAM, one sync at
// the end) so that 100 000 users take seconds:
//   pam_totp:   <totp_dir>/<user>, built with core's state format (encode_slot);
//   google:     <google_dir>/<user>, TOTP_AUTH, DISALLOW_REUSE, WINDOW_SIZE 3, 5 scratch codes;
//   pam_oath:   one usersfile, "HOTP/T30/6 <user> - <hex secret>" per user;
//   pam_totp with the PostgreSQL store: the same records through core's store interface
//   (schema created or upgraded first), one transaction per user.
// Also creates the files the bare durable update rewrites.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sandbox.hpp"

namespace bench {

inline constexpr std::size_t kFloorFiles = 256;
inline constexpr int kRecoveryCodes = 10;  // pam_totp's default, checked on a wrong code

struct EnrollSeconds {
    double totp = 0;
    double google = 0;
    double oath = 0;
    double sync = 0;  // one syncfs for everything
    double pg = 0;    // the database (not in the tables: pam_bench prints it)
};

// With `candidate`, the candidate module's state directory gets its own copy, each user
// with `candidate_authenticators` authenticators (the first one's code is typed); with `pg`,
// the database of box.pg_config gets the users too.
EnrollSeconds enroll(const Sandbox& box, std::size_t users, std::uint64_t seed, bool candidate,
                     int candidate_authenticators, bool pg);

// Replay protection lets a user log in once per time step. When a run needs the same user
// again within one step (only with few users), these put the user's record back to
// "enrolled, no login yet", outside the timed region and durably, as the next step would.
// For Service::totp, candidate and totp_pg.
void rewind_totp(const Sandbox& box, Service service, std::size_t index);
void rewind_google(const Sandbox& box, std::size_t index, std::uint64_t seed);
void rewind_oath(const Sandbox& box, const std::vector<std::size_t>& indexes, std::uint64_t seed);

}  // namespace bench
