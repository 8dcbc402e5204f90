// SPDX-License-Identifier: Apache-2.0
// totp-check --store: the database store as the servers use it (pam_totp.conf's store_*
// settings), through the store backend; --print-store: which store a config file selects.
// Reads only.
#pragma once

#include <optional>
#include <string>

#include "report.hpp"
#include "totp/result.hpp"

namespace totp_check {

// Reads ROOT/etc/security/pam_totp.conf and, with store = postgresql, connects as the
// servers do and reports the schema version, the role's privileges against the documented
// set, whether the connection is TLS with sslmode=verify-full, and the round-trip time.
void check_store(const std::string& root, Report& report);

// The store ("files" or "postgresql") pam_totp runs with when it reads `config` under
// `root` with its own loader: nullopt is the default file, which may be missing (the
// built-in "files"); a file a line names with config= must exist. An error, the first
// problem in one line, when the module would refuse every login because of the file (or
// the rollout file next to it): then the file says nothing the module acts on.
totp::Result<std::string> configured_store(const std::string& root,
                                           const std::optional<std::string>& config);

}  // namespace totp_check
