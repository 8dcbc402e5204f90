// SPDX-License-Identifier: Apache-2.0
// totp-enroll's errors are core errors (totp/result.hpp): subcommands return totp::Result
// or totp::Status, and main() turns the error's Errc into the documented exit status.
#pragma once

#include "totp/result.hpp"

namespace totp_enroll {

// A core error (store, configuration, mail) as a runtime failure, exit status 1: when
// the store answers not_found or invalid_argument (a home directory that is missing, a
// secret_path that expands badly), that is not an unknown user or a usage error.
inline totp::Error runtime_failure(totp::Error error) {
    error.code = totp::Errc::io;
    return error;
}

}  // namespace totp_enroll
