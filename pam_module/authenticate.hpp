// SPDX-License-Identifier: Apache-2.0
// The second factor of one login: who is asked, how the code is read, how it is checked
// against the store, what is logged and which PAM code comes back.
#pragma once

#include <string>

#include "options.hpp"
#include "pam_session.hpp"
#include "totp/clock.hpp"
#include "totp/store.hpp"

namespace pam_totp {

// The log line for a store that cannot be used, "<what> (<error>), failing closed". For a
// caller that is not root (a screen locker checking the password as the user) it says why
// such a caller cannot find the record (a 0700 state directory, the home layout, the
// PostgreSQL store), so the refusal is not taken for a broken store.
std::string store_failure_line(const std::string& what, const totp::Error& error,
                               const totp::Settings& settings);

int authenticate(PamSession& session, const totp::Settings& settings, totp::Store& store,
                 const totp::Clock& clock);

}  // namespace pam_totp
