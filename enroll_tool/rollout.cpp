// SPDX-License-Identifier: Apache-2.0
#include "rollout.hpp"

#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "errors.hpp"
#include "files.hpp"
#include "login_stacks.hpp"
#include "terminal.hpp"
#include "totp/account.hpp"
#include "totp/group_scope.hpp"
#include "totp/rollout.hpp"

namespace totp_enroll {
namespace {

constexpr mode_t kRolloutFileMode = 0644;
// pam_totp refuses nullok together with secret_path (a home that is not mounted yet would look
// like no enrollment), and the rollout file's "rollout" is nullok.
constexpr const char* kSecretPathRefusal =
    "secret_path is set, and pam_totp refuses every login when it is set together with "
    "rollout (nullok)";
constexpr uid_t kNobody = 65534;

// A file of the host, under --pam-root when one is given.
std::string host_file(const CommandLine& command, const std::string& path) {
    std::string root = command.pam_root.value_or("/");
    while (!root.empty() && root.back() == '/') root.pop_back();
    return root + path;
}

// The sources of nsswitch.conf's passwd line that getpwent may not enumerate: directories
// (sss, winbind, ldap, ...). files, compat and systemd are local.
std::vector<std::string> directory_sources(const CommandLine& command) {
    std::ifstream in(host_file(command, "/etc/nsswitch.conf"));
    std::vector<std::string> sources;
    for (std::string line; std::getline(in, line);) {
        if (!line.starts_with("passwd:")) continue;
        std::istringstream words(line.substr(std::string_view("passwd:").size()));
        bool in_action = false;  // [NOTFOUND=return] and the like
        for (std::string word; words >> word;) {
            if (word.starts_with("#")) break;
            if (word.starts_with("[")) in_action = true;
            if (!in_action && word != "files" && word != "compat" && word != "systemd") {
                sources.push_back(word);
            }
            if (word.ends_with("]")) in_action = false;
        }
    }
    return sources;
}

bool shell_refuses_logins(const std::string& shell) {
    return shell.ends_with("/nologin") || shell.ends_with("/false");
}

// Why a passwd entry can log in, when it can: a shell that refuses logins still
// authenticates through PAM (internal-sftp, ssh -N, mail and FTP services), and a locked
// password still logs in with an ssh key. So every person's account counts (root, and uid
// UID_MIN and above but nobody); a system account below it counts with a login shell and a
// password. An account without a shadow entry may have its password elsewhere (a
// directory), so it counts as one that has one. nullopt: the entry cannot log in.
totp::Result<std::optional<std::vector<std::string>>> login_reasons(const totp::Account& entry,
                                                                    uid_t first_person) {
    bool locked = false;
    if (const totp::Result<totp::PasswordStatus> status = totp::find_password_status(entry.name)) {
        locked = status->locked;
    } else if (status.error().code != totp::Errc::not_found) {
        return status.error();
    }
    const bool refusing_shell = shell_refuses_logins(entry.shell);
    const bool person = entry.uid == 0 || (entry.uid >= first_person && entry.uid != kNobody);
    if (!person && (locked || refusing_shell)) return std::optional<std::vector<std::string>>();
    std::vector<std::string> reasons;
    if (locked) reasons.emplace_back("password locked: may log in with an ssh key");
    if (refusing_shell) {
        reasons.push_back("shell " + entry.shell +
                          ": may authenticate through sftp, tunnels or mail services");
    }
    return std::optional(reasons);
}

// Whether pam_totp asks `login` (a passwd entry logging into `owner`'s account) for a code.
// A group that cannot be looked up exempts nobody: the account is listed rather than missed
// (the module refuses such logins anyway).
bool asks_for_code(const totp::Settings& settings, const totp::Account& login,
                   const totp::Account& owner) {
    const totp::Result<totp::CodeScope> scope = totp::code_scope(settings, login, owner);
    return !scope || *scope == totp::CodeScope::asked;
}

struct NotEnrolled {
    std::string name;  // the account's canonical name: what its record is keyed by
    std::vector<std::string> reasons;
};

// Every passwd entry of each uid, in NSS's order; the first is the account's own.
std::map<uid_t, std::vector<totp::Account>> entries_by_uid(std::vector<totp::Account> accounts) {
    std::map<uid_t, std::vector<totp::Account>> entries;
    for (totp::Account& account : accounts) entries[account.uid].push_back(std::move(account));
    return entries;
}

// Whether the account of `entries` (one uid's passwd entries) can log in with pam_totp
// asking for a code, through any of its names, and why it counts. nullopt: it cannot.
totp::Result<std::optional<std::vector<std::string>>> counted_reasons(
    const totp::Settings& settings, const std::vector<totp::Account>& entries, uid_t first_person) {
    const totp::Account& owner = entries.front();
    std::optional<std::vector<std::string>> counted;
    for (const totp::Account& entry : entries) {
        const auto reasons = login_reasons(entry, first_person);
        if (!reasons) return reasons.error();
        if (!*reasons || !asks_for_code(settings, entry, owner)) continue;
        if (!counted) counted.emplace();
        const std::string prefix = entry.name == owner.name ? "" : "as " + entry.name + ": ";
        if (!prefix.empty() && (*reasons)->empty()) counted->push_back("logs in as " + entry.name);
        for (const std::string& reason : **reasons) counted->push_back(prefix + reason);
    }
    return counted;
}

// The accounts pam_totp would refuse once enforced: they can log in, are in scope and have
// no enrollment. Records are keyed by the account's canonical name, the first entry of its
// uid; every entry of the uid (alias lines) is a way into that account.
totp::Result<std::vector<NotEnrolled>> accounts_not_enrolled(Session& session,
                                                             const CommandLine& command) {
    const totp::Result<std::vector<std::string>> enrolled = session.enrolled_users();
    if (!enrolled) return enrolled.error();
    const std::set<std::string> enrolled_names(enrolled->begin(), enrolled->end());
    const uid_t first_person = totp::read_uid_min(host_file(command, "/etc/login.defs"));
    const Privileges::Elevation elevated = session.privileges().elevate();  // the shadow file
    totp::Result<std::vector<totp::Account>> accounts = totp::all_accounts();
    if (!accounts) return runtime_failure(accounts.error());
    std::vector<NotEnrolled> missing;
    for (const auto& [uid, entries] : entries_by_uid(std::move(*accounts))) {
        if (enrolled_names.count(entries.front().name) > 0) continue;
        const auto reasons = counted_reasons(session.settings(), entries, first_person);
        if (!reasons) return runtime_failure(reasons.error());
        if (*reasons) missing.push_back(NotEnrolled{entries.front().name, **reasons});
    }
    return missing;
}

std::string listed(const NotEnrolled& account) {
    std::string line = "\n  " + account.name;
    for (std::size_t i = 0; i < account.reasons.size(); ++i) {
        line += (i == 0 ? " (" : "; ") + account.reasons[i];
    }
    return line + (account.reasons.empty() ? "" : ")");
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
    const totp::Result<std::vector<NotEnrolled>> missing = accounts_not_enrolled(session, command);
    if (!missing) return missing.error();
    const std::vector<std::string> directories = directory_sources(command);
    std::string directory_warning;
    for (const std::string& source : directories) {
        directory_warning += (directory_warning.empty() ? "" : ", ") + source;
    }
    if (!directory_warning.empty()) {
        directory_warning = "WARNING: " + host_file(command, "/etc/nsswitch.conf") +
                            " takes accounts from " + directory_warning +
                            ": directory users are not listed; check that they have enrolled";
    }
    if ((!missing->empty() || !directories.empty()) && !command.force) {
        std::string text;
        if (!missing->empty()) {
            text = std::to_string(missing->size()) +
                   " account(s) that can log in have not enrolled and would be refused:";
            for (const NotEnrolled& account : *missing) text += listed(account);
            text += "\n";
        }
        if (!directory_warning.empty()) text += directory_warning + "\n";
        return totp::make_error(totp::Errc::io,
                                text + "enroll them first, or run totp-enroll enforce --force");
    }
    if (!directory_warning.empty()) say(directory_warning);
    return write_mode(session, command, totp::Rollout::enforce);
}

totp::Status roll_out(Session& session, const CommandLine& command) {
    if (!session.settings().secret_path.empty()) {
        return totp::make_error(totp::Errc::io, std::string(kSecretPathRefusal) +
                                                    "; roll out with require_group instead");
    }
    return write_mode(session, command, totp::Rollout::rollout);
}

std::vector<std::string> login_policy_lines(const Session& session, const CommandLine& command) {
    const totp::Settings& settings = session.settings();
    const std::string path = totp::rollout_path(session.config_path());
    std::vector<std::string> lines;
    lines.push_back("rollout mode: " + std::string(totp::rollout_name(settings.rollout)) +
                    (settings.rollout == totp::Rollout::unset ? " (no " : " (") + path + ")");
    lines.push_back("logins: " + unenrolled_users_text(settings.nullok));
    if (settings.rollout == totp::Rollout::rollout && settings.nullok &&
        !settings.secret_path.empty()) {
        lines.push_back("WARNING: " + std::string(kSecretPathRefusal) +
                        ": run totp-enroll enforce, or remove secret_path");
    }
    const std::vector<std::string> warnings = stack_warnings(command);
    lines.insert(lines.end(), warnings.begin(), warnings.end());
    return lines;
}

}  // namespace totp_enroll
