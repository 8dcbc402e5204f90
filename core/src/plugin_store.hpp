// SPDX-License-Identifier: Apache-2.0
// The store interfaces over a loaded backend's C table (store_plugin.h). The factory checks
// and loads the table; this turns its calls into Store, Record and ResetTokenStore, and its
// status codes and messages into totp::Error.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "totp/result.hpp"
#include "totp/store.hpp"
#include "totp/store_plugin.h"

namespace totp {

// Why the table a backend's entry point returned cannot be used (null, another interface
// version, shorter than this build's table, a missing function), or nothing.
std::optional<std::string> plugin_table_fault(const totp_store_plugin_v1* table);

// The login records and the reset tokens of a backend; the table must have passed
// plugin_table_fault() and stay loaded for the life of the process.
Result<std::unique_ptr<Store>> open_plugin_store(const totp_store_plugin_v1& api,
                                                 const totp_store_options& options);
Result<std::unique_ptr<ResetTokenStore>> open_plugin_reset_token_store(
    const totp_store_plugin_v1& api, const totp_store_options& options);

Result<std::string> upgrade_plugin_schema(const totp_store_plugin_v1& api,
                                          const totp_store_options& options);
Result<std::string> check_plugin_store(const totp_store_plugin_v1& api,
                                       const totp_store_options& options);

}  // namespace totp
