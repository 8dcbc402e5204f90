// SPDX-License-Identifier: Apache-2.0
#include "rollout.hpp"

#include <set>
#include <string>
#include <vector>

#include "errors.hpp"
#include "files.hpp"
#include "login_stacks.hpp"
#include "terminal.hpp"
#include "totp/account.hpp"
#include "totp/rollout.hpp"

namespace totp_enroll {
namespace {

constexpr mode_t kRolloutFileMode = 0644;

bool shell_refuses_logins(const std::string& shell) {
    return shell.ends_with("/nologin") || shell.ends_with("/false");
}

// A locked or disabled password ('!', '*') cannot log in; an account without a shadow entry
// may have its password elsewhere (a directory), so it counts as one that can.
totp::Result<bool> can_log_in(const totp::Account& account) {
    if (shell_refuses_logins(account.shell)) return false;
    const totp::Result<totp::PasswordStatus> status = totp::find_password_status(account.name);
    if (status) return !status->locked;
    if (status.error().code == totp::Errc::not_found) return true;
    return status.error();
}

// Whether pam_totp asks `account` for a code at all. A group that cannot be looked up
// exempts nobody: the account is listed rather than missed.
bool in_scope(const totp::Settings& settings, const totp::Account& account) {
    if (!settings.exempt_group.empty()) {
        const totp::Result<bool> member = totp::is_member(account, settings.exempt_group);
        if (member && *member) return false;
    }
    if (!settings.require_group.empty()) {
        const totp::Result<bool> member = totp::is_member(account, settings.require_group);
        if (member && !*member) return false;
    }
    return true;
}

// The accounts pam_totp would refuse once enforced: they can log in, are in scope and have
// no enrollment. Records are keyed by the account's canonical name, the first entry of its
// uid, so alias lines after it are its own account, not another one.
totp::Result<std::vector<std::string>> accounts_not_enrolled(Session& session) {
    const totp::Result<std::vector<std::string>> enrolled = session.enrolled_users();
    if (!enrolled) return enrolled.error();
    const std::set<std::string> enrolled_names(enrolled->begin(), enrolled->end());
    const Privileges::Elevation elevated = session.privileges().elevate();  // the shadow file
    const totp::Result<std::vector<totp::Account>> accounts = totp::all_accounts();
    if (!accounts) return runtime_failure(accounts.error());
    std::set<uid_t> seen;
    std::vector<std::string> missing;
    for (const totp::Account& account : *accounts) {
        if (!seen.insert(account.uid).second) continue;
        const totp::Result<bool> login = can_log_in(account);
        if (!login) return runtime_failure(login.error());
        if (*login && in_scope(session.settings(), account) &&
            enrolled_names.count(account.name) == 0) {
            missing.push_back(account.name);
        }
    }
    return missing;
}

std::string unenrolled_users_text(bool nullok) {
    return nullok ? "users who have not enrolled log in with their password alone"
                  : "users who have not enrolled are refused; enrolled users need their code";
}

// When the config file sets nullok itself, what that does next to the rollout file.
void say_config_nullok(Session& session, totp::Rollout rollout) {
    const std::optional<bool> setting = session.settings().nullok_setting;
    if (!setting) return;
    const int line = [&] {
        const Privileges::Elevation elevated = session.privileges().elevate();
        return totp::setting_line(session.config_path(), "nullok");
    }();
    const std::string where =
        session.config_path() + (line > 0 ? " line " + std::to_string(line) : "");
    if (!*setting) {
        say("note: " + where + " sets nullok = no, which still applies: " +
            unenrolled_users_text(false) + " whatever the rollout mode");
    } else if (rollout == totp::Rollout::enforce) {
        say("note: " + where + " sets nullok = yes; enforce overrides it");
    } else {
        say("note: " + where + " sets nullok = yes, which lets users who have not enrolled " +
            "in until totp-enroll enforce");
    }
}

// One WARNING for each login stack that does not run pam_totp after the password.
std::vector<std::string> stack_warnings(const CommandLine& command) {
    const totp_check::PamConfigDir dir(command.pam_root.value_or("/"));
    std::vector<std::string> lines;
    for (const totp_check::LoginStack& stack : totp_check::login_stacks(dir)) {
        if (stack.runs_totp) continue;
        lines.push_back("WARNING: " + stack.path +
                        " does not run pam_totp after the password: logins through it do not "
                        "ask for a code; " +
                        totp_check::how_to_add_totp(stack));
    }
    return lines;
}

totp::Status write_mode(Session& session, const CommandLine& command, totp::Rollout rollout) {
    const std::string path = totp::rollout_path(session.config_path());
    const totp::Rollout before = session.settings().rollout;
    {
        const Privileges::Elevation elevated = session.privileges().elevate();
        if (totp::Status written =
                write_file_atomically(path, totp::rollout_file_text(rollout), kRolloutFileMode);
            !written) {
            return written;
        }
    }
    say("rollout mode: " + std::string(totp::rollout_name(rollout)) + " (was " +
        std::string(totp::rollout_name(before)) + "), written to " + path);
    say("logins: " +
        unenrolled_users_text(totp::effective_nullok(session.settings().nullok_setting, rollout)));
    say_config_nullok(session, rollout);
    for (const std::string& warning : stack_warnings(command)) say(warning);
    return {};
}

}  // namespace

totp::Status enforce(Session& session, const CommandLine& command) {
    const totp::Result<std::vector<std::string>> missing = accounts_not_enrolled(session);
    if (!missing) return missing.error();
    if (!missing->empty() && !command.force) {
        std::string list;
        for (const std::string& name : *missing) list += "\n  " + name;
        return totp::make_error(
            totp::Errc::io, std::to_string(missing->size()) +
                                " account(s) that can log in have not enrolled and would be "
                                "refused:" +
                                list + "\nenroll them first, or run totp-enroll enforce --force");
    }
    return write_mode(session, command, totp::Rollout::enforce);
}

totp::Status roll_out(Session& session, const CommandLine& command) {
    return write_mode(session, command, totp::Rollout::rollout);
}

std::vector<std::string> login_policy_lines(const Session& session, const CommandLine& command) {
    const totp::Settings& settings = session.settings();
    const std::string path = totp::rollout_path(session.config_path());
    std::vector<std::string> lines;
    lines.push_back("rollout mode: " + std::string(totp::rollout_name(settings.rollout)) +
                    (settings.rollout == totp::Rollout::unset ? " (no " : " (") + path + ")");
    lines.push_back("logins: " + unenrolled_users_text(settings.nullok));
    const std::vector<std::string> warnings = stack_warnings(command);
    lines.insert(lines.end(), warnings.begin(), warnings.end());
    return lines;
}

}  // namespace totp_enroll
