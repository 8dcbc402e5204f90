// SPDX-License-Identifier: Apache-2.0
// Creates the store the settings name. The file store is built in; the PostgreSQL store
// (store_pg/) is a separate shared object loaded on demand from one fixed, root-owned
// path, so programs that never use it never load libpq. It is called only through the C
// interface of store_plugin.h.
#pragma once

#include <memory>
#include <string>

#include "totp/config.hpp"
#include "totp/result.hpp"
#include "totp/store.hpp"

namespace totp {

// The store `settings.store` names: the file store, or the PostgreSQL store wrapped so that
// users in store_fallback_users fall back to their local records in the file store when the
// database is unreachable (Errc::unavailable from the backend; never on a failed query), or
// its backend cannot be loaded. Such a user without a local record gets an error, not "not
// enrolled". Errors: the backend cannot be loaded (without store_fallback_users), a key or
// password file is unsafe.
Result<std::unique_ptr<Store>> make_store(const Settings& settings);

// The reset tokens of the store `settings.store` names (totp-resetd, totp-enroll). No
// fallback: break-glass users log in from local records, they do not reset passwords there.
Result<std::unique_ptr<ResetTokenStore>> make_reset_token_store(const Settings& settings);

// Just one backend, without fallback (for migration between them).
Result<std::unique_ptr<Store>> make_files_store(const Settings& settings);
Result<std::unique_ptr<Store>> make_postgresql_store(const Settings& settings);

// Creates the schema in the database or upgrades it to the version this build uses;
// returns a one-line description of what was done.
Result<std::string> upgrade_postgresql_schema(const Settings& settings);

// Connects to the database and reports, one line per item starting with "ok: " or
// "finding: ", its schema version, whether the role has exactly the documented privileges,
// whether the connection is TLS with sslmode=verify-full, and the round-trip time.
Result<std::string> check_postgresql_store(const Settings& settings);

}  // namespace totp
