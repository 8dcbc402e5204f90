// SPDX-License-Identifier: Apache-2.0
// The PostgreSQL store inside the backend. Only plugin.cpp calls it, behind the C table of
// store_plugin.h; nothing declared here crosses the boundary.
#pragma once

#include <memory>
#include <string>

#include "pg_session.hpp"
#include "totp/result.hpp"
#include "totp/secret.hpp"
#include "totp/store.hpp"

namespace totp::pg {

struct Options {
    std::string dsn;
    SecretString password;  // empty: none (or in the DSN)
    SecretBytes key;        // kStoreKeyBytes
    int connect_timeout = 3;
};

// Login records and reset tokens on one set of settings (and one kept connection).
class DatabaseStore : public Store, public ResetTokenStore {};

std::unique_ptr<DatabaseStore> make_database_store(const Options& options);

// Creates the schema or upgrades it to this build's version; a one-line account of it.
Result<std::string> upgrade_schema(const Options& options);

// totp-check --store's report (store_plugin.h, check_store): pg_check.cpp.
Result<std::string> check_store(const Options& options);

// A new connection with the store's settings (store_connect_timeout, session options), or
// why there is none.
Result<Connection> connect(const Options& options);

}  // namespace totp::pg
