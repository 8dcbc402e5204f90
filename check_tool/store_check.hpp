// SPDX-License-Identifier: Apache-2.0
// totp-check --store: the database store as the servers use it (pam_totp.conf's store_*
// settings), through the store backend. Reads only.
#pragma once

#include <string>

#include "report.hpp"

namespace totp_check {

// Reads ROOT/etc/security/pam_totp.conf and, with store = postgresql, connects as the
// servers do and reports the schema version, the role's privileges against the documented
// set, whether the connection is TLS with sslmode=verify-full, and the round-trip time.
void check_store(const std::string& root, Report& report);

}  // namespace totp_check
