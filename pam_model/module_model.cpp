// SPDX-License-Identifier: Apache-2.0
#include "module_model.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <tuple>

#include "totp/config.hpp"

namespace totp_check {
namespace {

constexpr std::array<const char*, 11> kPasswordModules = {
    "pam_unix",         "pam_unix2",       "pam_sss",           "pam_ldap",
    "pam_krb5",         "pam_winbind",     "pam_pwdb",          "pam_userdb",
    "pam_systemd_home", "pam_radius_auth", "pam_test_password",
};

bool allowed(Role role, const LineFacts& facts, int result) {
    switch (role) {
        case Role::permit:
            return result == PAM_SUCCESS;
        case Role::deny:
            return result == PAM_AUTH_ERR;
        // pam_totp never asks for a new password.
        case Role::totp_check:
            return result != PAM_NEW_AUTHTOK_REQD &&
                   (result != PAM_IGNORE || facts.nullok || !facts.ignored_when.empty());
        case Role::totp_split:
            return result != PAM_SUCCESS && result != PAM_NEW_AUTHTOK_REQD;
        default:
            return true;
    }
}

unsigned flags_of(Role role, int result) {
    const bool success = result == PAM_SUCCESS;
    switch (role) {
        case Role::rootok:
            return success ? kRootOnly : 0u;
        case Role::condition:
            return success ? kConditional : 0u;
        case Role::totp_check:
            return success ? kCodeChecked : 0u;
        // A password module "fails" with what the standard controls treat as a failure.
        case Role::password:
            if (success || result == PAM_NEW_AUTHTOK_REQD) return kPasswordOk;
            return result == PAM_IGNORE ? 0u : kPasswordFailed;
        default:
            return 0u;
    }
}

}  // namespace

bool is_password_module(const std::string& module) {
    return std::find(kPasswordModules.begin(), kPasswordModules.end(), module) !=
           kPasswordModules.end();
}

Role role_of(const Handler& handler) {
    const std::string& module = handler.module;
    if (module == "pam_permit") return Role::permit;
    if (module == "pam_deny") return Role::deny;
    if (module == "pam_rootok") return Role::rootok;
    if (module == "pam_succeed_if") return Role::condition;
    if (module == "pam_totp") {
        // Decided as the module decides it: its own argument parser (forward_pass=yes, =1,
        // ...); the module refuses forward_pass in the config file, so only arguments count.
        totp::Settings settings;
        std::vector<totp::ConfigProblem> problems;
        for (const std::string& argument : handler.args)
            totp::apply_argument(settings, argument, problems);
        return settings.forward_pass ? Role::totp_split : Role::totp_check;
    }
    return is_password_module(module) ? Role::password : Role::other;
}

std::vector<Outcome> outcomes(const Handler& handler, const LineFacts& facts) {
    if (handler.kind == HandlerKind::must_fail) return {Outcome{PAM_PERM_DENIED, 0, {}}};
    if (handler.kind == HandlerKind::unloadable) return {Outcome{PAM_MODULE_UNKNOWN, 0, {}}};
    // Results the stack treats alike: same action, same success, same PAM_IGNORE-ness
    // (libpam turns an ignored status into PAM_PERM_DENIED on "bad").
    std::map<std::tuple<int, bool, bool, unsigned>, int> classes;
    for (int result = 0; result < _PAM_RETURN_VALUES; ++result) {
        if (result == PAM_INCOMPLETE || !allowed(facts.role, facts, result)) continue;
        const auto key = std::make_tuple(handler.actions[result], result == PAM_SUCCESS,
                                         result == PAM_IGNORE, flags_of(facts.role, result));
        const auto found = classes.find(key);
        if (found == classes.end() || result == PAM_AUTH_ERR) classes[key] = result;
    }
    std::vector<Outcome> list;
    for (const auto& [key, result] : classes) {
        Outcome outcome{result, flags_of(facts.role, result), {}};
        if (facts.role == Role::condition && result == PAM_SUCCESS)
            outcome.condition = facts.condition;
        if (facts.role == Role::totp_check && result == PAM_IGNORE) {
            if (facts.nullok) {
                outcome.flags |= kNullok;
            } else {
                outcome.flags |= kConditional;
                outcome.condition = facts.ignored_when;
            }
        }
        list.push_back(std::move(outcome));
    }
    // Successes first: the first path found to a result is the one reported.
    std::stable_sort(list.begin(), list.end(), [](const Outcome& a, const Outcome& b) {
        return (a.result == PAM_SUCCESS) > (b.result == PAM_SUCCESS);
    });
    return list;
}

}  // namespace totp_check
