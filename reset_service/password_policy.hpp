// SPDX-License-Identifier: Apache-2.0
// The password policy asked before the code is: PAM has no check-only password change
// (PAM_PRELIM_CHECK is not for applications), so the monitor asks libpwquality itself,
// with the system's pwquality.conf and the options of the pam_pwquality line of the
// totp-reset service, the way pam_pwquality will. A password refused here leaves the
// user's code unused. pam_chauthtok still decides afterwards.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace resetd {

struct PolicyFiles {
    const char* pam_service = "/etc/pam.d/totp-reset";
    const char* pwquality_conf = nullptr;  // null: libpwquality's default
};

// Why the policy refuses `password` for `user` ("BAD PASSWORD: ...", printable, bounded),
// or nullopt if it accepts it. A policy that cannot be read accepts: then pam_chauthtok
// alone decides, after the code.
std::optional<std::string> policy_refusal(const std::string& user, std::string_view password,
                                          const PolicyFiles& files = {});

}  // namespace resetd
