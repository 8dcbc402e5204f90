// SPDX-License-Identifier: Apache-2.0
// The second factor of one login: who is asked, how the code is read, how it is checked
// against the store, what is logged and which PAM code comes back.
#pragma once

#include "options.hpp"
#include "pam_session.hpp"
#include "totp/clock.hpp"
#include "totp/store.hpp"

namespace pam_totp {

int authenticate(PamSession& session, const totp::Settings& settings, totp::Store& store,
                 const totp::Clock& clock);

}  // namespace pam_totp
