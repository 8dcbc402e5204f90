// SPDX-License-Identifier: Apache-2.0
// Moving enrollments between the file store and the PostgreSQL store, and creating or
// upgrading the database schema (root only).
#pragma once

#include "command_line.hpp"
#include "session.hpp"
#include "totp/result.hpp"

namespace totp_enroll {

// Copies every user of the other store into the store named by --to, one line per user.
// The source is left as it was, so switching `store =` back is a complete rollback.
totp::Status migrate_store(Session& session, const CommandLine& command);

totp::Status upgrade_database(Session& session);

}  // namespace totp_enroll
