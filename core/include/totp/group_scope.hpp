// SPDX-License-Identifier: Apache-2.0
// Whom require_group and exempt_group leave pam_totp to ask for a code. One rule for the
// module and for totp-enroll enforce (which lists who would be refused): a login looks at
// two passwd entries, the one of the login name and the account's own (the first entry of
// its uid), so that an alias line cannot step out of a policy set on the account's groups.
#pragma once

#include "totp/account.hpp"
#include "totp/config.hpp"
#include "totp/result.hpp"

namespace totp {

enum class CodeScope {
    asked,         // the code is asked for
    not_required,  // require_group is set and neither entry is in it
    exempt,        // both entries are in exempt_group
};

// Errc::not_found / Errc::io when a group cannot be resolved (the message names the setting
// and the group): callers fail closed.
Result<CodeScope> code_scope(const Settings& settings, const Account& login, const Account& owner);

}  // namespace totp
