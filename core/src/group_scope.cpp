// SPDX-License-Identifier: Apache-2.0
#include "totp/group_scope.hpp"

#include <string>

namespace totp {
namespace {

struct Membership {
    bool any = false;
    bool all = true;
};

Result<Membership> membership(const Account& login, const Account& owner, const std::string& group,
                              const char* setting) {
    Membership found;
    for (const Account* entry : {&login, &owner}) {
        const Result<bool> member = is_member(*entry, group);
        if (!member) {
            return make_error(member.error().code,
                              std::string(setting) + " '" + group + "' cannot be resolved");
        }
        found.any = found.any || *member;
        found.all = found.all && *member;
    }
    return found;
}

}  // namespace

Result<CodeScope> code_scope(const Settings& settings, const Account& login, const Account& owner) {
    if (!settings.require_group.empty()) {
        // Either entry in the group requires the code.
        const Result<Membership> inside =
            membership(login, owner, settings.require_group, "require_group");
        if (!inside) return inside.error();
        if (!inside->any) return CodeScope::not_required;
    }
    if (!settings.exempt_group.empty()) {
        // Exempt only when both are: an alias line in the group exempts nobody.
        const Result<Membership> inside =
            membership(login, owner, settings.exempt_group, "exempt_group");
        if (!inside) return inside.error();
        if (inside->all) return CodeScope::exempt;
    }
    return CodeScope::asked;
}

}  // namespace totp
