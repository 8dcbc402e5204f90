// SPDX-License-Identifier: Apache-2.0
// The PAM side of totp-check: which services to check, and for each, every way its auth
// stack lets someone in without pam_totp accepting a code, in words and lines.
#pragma once

#include <string>
#include <vector>

#include "pam_stack.hpp"
#include "report.hpp"
#include "totp_config.hpp"

namespace totp_check {

// Every service people may log in to: the well-known ones that exist, "other" (libpam's
// service for any name without a file) and every other file in /etc/pam.d or /usr/lib/pam.d
// with auth lines, included or not, but for the files distributions ship only to include.
std::vector<std::string> services_to_check(const PamConfigDir& dir, Report& report);

// A note when the root has no module directory (modules then count as installed).
void check_module_dir(const PamConfigDir& dir, Report& report);

// A finding when no login stack of the host (login_stacks.hpp) runs pam_totp after the
// password: then no login asks for a code, whatever each service's stack says.
void check_login_stacks(const PamConfigDir& dir, Report& report);

void check_service(const PamConfigDir& dir, const std::string& service, TotpConfigs& configs,
                   Report& report);

}  // namespace totp_check
