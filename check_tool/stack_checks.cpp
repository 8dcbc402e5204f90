// SPDX-License-Identifier: Apache-2.0
#include "stack_checks.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <set>

#include "login_stacks.hpp"
#include "stack_search.hpp"

namespace totp_check {
namespace {

constexpr std::array<const char*, 12> kInteractiveServices = {
    "sshd",         "login",   "su",   "su-l",         "sudo",     "sudo-i",
    "gdm-password", "lightdm", "sddm", "xscreensaver", "polkit-1", "cockpit",
};

// Services whose program calls libpam with the user's own uid (setuid programs, polkit's
// agent helper, screen lockers): pam_rootok (getuid() == 0) there succeeds for root alone.
// runuser is root's tool by design. Everywhere else the caller is root.
constexpr std::array<const char*, 16> kUnprivilegedCallers = {
    "su",     "su-l",  "runuser", "runuser-l",    "sudo",     "sudo-i", "chfn", "chsh",
    "passwd", "chage", "newgrp",  "xscreensaver", "polkit-1", "pkexec", "doas", "kcheckpass",
};

bool caller_unprivileged(const std::string& service) {
    return std::find_if(kUnprivilegedCallers.begin(), kUnprivilegedCallers.end(),
                        [&](const char* name) { return service == name; }) !=
           kUnprivilegedCallers.end();
}

// Files that distributions ship for services to include, never run as services.
bool is_library(const std::string& name) {
    constexpr std::array<const char*, 8> kLibraries = {
        "system-auth",    "password-auth",    "fingerprint-auth", "smartcard-auth",
        "system-auth-ac", "password-auth-ac", "postlogin",        "postlogin-ac",
    };
    return name.starts_with("common-") ||
           std::find_if(kLibraries.begin(), kLibraries.end(),
                        [&](const char* library) { return name == library; }) != kLibraries.end();
}

// The names in a directory; nullopt when it cannot be read.
std::optional<std::vector<std::string>> list_dir(const std::string& path) {
    DIR* listing = opendir(path.c_str());
    if (listing == nullptr) return std::nullopt;
    std::vector<std::string> names;
    while (const dirent* entry = readdir(listing)) names.push_back(entry->d_name);
    closedir(listing);
    return names;
}

// Editors' and package managers' leftovers are not services.
bool is_leftover(const std::string& name) {
    return name.starts_with(".") || name.ends_with("~") ||
           name.find(".dpkg-") != std::string::npos || name.find(".rpm") != std::string::npos ||
           name.find(".ucf-") != std::string::npos;
}

std::string line_name(const Handler& handler) {
    std::string name = handler.source.file + " line " + std::to_string(handler.source.line);
    return name;
}

// "common-auth line 4", or "line 4" when it is in the same file as `from`.
std::string line_name_from(const Handler& handler, const Handler& from) {
    if (handler.source.file == from.source.file)
        return "line " + std::to_string(handler.source.line);
    return line_name(handler);
}

// A name as written, with control characters (a carriage return ending it) shown.
std::string visible(const std::string& text) {
    std::string shown;
    for (const char c : text) {
        if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) {
            shown += c;
        } else {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\x%02x", static_cast<unsigned char>(c));
            shown += escaped;
        }
    }
    return shown;
}

std::string module_and_control(const Handler& handler) {
    if (handler.kind == HandlerKind::must_fail && handler.module.empty()) return "(bad line)";
    if (handler.kind == HandlerKind::unloadable)
        return visible(handler.module_path) + " " + handler.control;
    return handler.module + (handler.kind == HandlerKind::module ? ".so " : " ") + handler.control;
}

// What the line that brought others into the stack does: "includes" or "substack".
const char* bringing_in(const Stack& stack, const Source& line) {
    for (const Handler& handler : stack.handlers)
        if (handler.kind == HandlerKind::substack && handler.source.file == line.file &&
            handler.source.line == line.line)
            return "substack";
    return "includes";
}

// The path's lines, indented by include depth; with `ends_asking`, its last line is the
// pam_totp line about to ask for the code.
std::vector<std::string> describe_path(const Stack& stack, const Path& path,
                                       bool ends_asking = false) {
    std::vector<std::string> lines;
    std::vector<Source> shown_via;
    for (const Step& step : path.steps) {
        const Handler& handler = stack.handlers[step.handler];
        for (std::size_t i = 0; i < handler.via.size(); ++i) {
            if (i < shown_via.size() && shown_via[i].file == handler.via[i].file &&
                shown_via[i].line == handler.via[i].line)
                continue;
            shown_via.resize(i);
            shown_via.push_back(handler.via[i]);
            lines.push_back(std::string(i * 2, ' ') + handler.via[i].file + ":" +
                            std::to_string(handler.via[i].line) + " " +
                            bringing_in(stack, handler.via[i]));
        }
        shown_via.resize(handler.via.size());
        std::string text = std::string(handler.via.size() * 2, ' ') + handler.source.file + ":" +
                           std::to_string(handler.source.line) + " " + module_and_control(handler);
        if (ends_asking && &step == &path.steps.back()) {
            lines.push_back(text + ": asks for the code");
            break;
        }
        text += ": " + code_name(step.result);
        if (step.effect.action != kIgnore || step.result == PAM_SUCCESS)
            text += " -> " + action_name(step.effect.action);
        if (!step.condition.empty()) text += " (when " + step.condition + ")";
        lines.push_back(text);
    }
    return lines;
}

std::vector<std::size_t> code_lines(const Stack& stack) {
    std::vector<std::size_t> lines;
    for (std::size_t i = 0; i < stack.handlers.size(); ++i)
        if (stack.handlers[i].kind == HandlerKind::module &&
            role_of(stack.handlers[i]) == Role::totp_check)
            lines.push_back(i);
    return lines;
}

struct Explanation {
    std::string sentence;
    const Handler* line = nullptr;  // the line that decides
};

// Why the path gets in without a code, in one sentence naming the deciding line.
Explanation explain_bypass(const Stack& stack, const Path& path) {
    const std::vector<std::size_t> totp = code_lines(stack);
    const Handler* last = path.steps.empty() ? nullptr : &stack.handlers[path.steps.back().handler];
    if (totp.empty())
        return {"no pam_totp line checks the code: the stack succeeds without it", nullptr};
    for (const Step& step : path.steps) {
        const Handler& handler = stack.handlers[step.handler];
        if (role_of(handler) == Role::totp_check && step.result != PAM_SUCCESS &&
            handler.kind == HandlerKind::module)
            return {line_name(handler) + " pam_totp.so " + handler.control + " returns " +
                        code_name(step.result) + " and the stack still succeeds",
                    &handler};
    }
    for (const Step& step : path.steps) {
        if (!step.effect.skipped) continue;
        const Handler& handler = stack.handlers[step.handler];
        for (const std::size_t t : totp) {
            if (t <= step.handler || t > step.effect.last_skipped) continue;
            const bool ends = step.effect.action == kDone || step.effect.action == kDie;
            return {line_name(handler) + " " + module_and_control(handler) + " " +
                        (ends ? "ends the stack" : "jumps") + " on " + code_name(step.result) +
                        (ends ? " before" : " over") + " pam_totp on " +
                        line_name_from(stack.handlers[t], handler),
                    &handler};
        }
    }
    return {"the stack succeeds without pam_totp accepting a code", last};
}

std::vector<LineFacts> line_facts(const Stack& stack, TotpConfigs& configs) {
    std::vector<LineFacts> facts;
    for (const Handler& handler : stack.handlers) {
        LineFacts fact;
        fact.role = handler.kind == HandlerKind::module ? role_of(handler) : Role::other;
        if (fact.role == Role::condition) {
            for (const std::string& arg : handler.args) {
                if (arg == "quiet" || arg == "quiet_success" || arg == "quiet_fail" ||
                    arg == "use_uid" || arg == "debug" || arg == "audit")
                    continue;
                fact.condition += (fact.condition.empty() ? "" : " ") + arg;
            }
            fact.condition = handler.module + " " + fact.condition;
        }
        if (fact.role == Role::totp_check || fact.role == Role::totp_split) {
            const totp::Settings settings = configs.line_settings(handler);
            fact.nullok = settings.nullok;
            if (!settings.require_group.empty())
                fact.ignored_when = "the user is not in require_group " + settings.require_group;
            if (!settings.exempt_group.empty())
                fact.ignored_when += (fact.ignored_when.empty() ? "" : " or ") +
                                     std::string("the user is in exempt_group ") +
                                     settings.exempt_group;
        }
        facts.push_back(std::move(fact));
    }
    return facts;
}

void check_forward_pass(const std::string& service, const Stack& stack, Report& report) {
    const std::vector<std::size_t> checks = code_lines(stack);
    for (std::size_t i = 0; i < stack.handlers.size(); ++i) {
        const Handler& handler = stack.handlers[i];
        if (handler.kind != HandlerKind::module || role_of(handler) != Role::totp_split) continue;
        if (std::any_of(checks.begin(), checks.end(), [&](std::size_t c) { return c > i; }))
            continue;
        report.add(Finding{service,
                           kKindForwardPass,
                           handler.source.file,
                           handler.source.line,
                           line_name(handler) +
                               " pam_totp.so forward_pass splits off the code but no later "
                               "pam_totp line checks it",
                           {}});
    }
}

void check_code_first(const std::string& service, const Stack& stack, Report& report) {
    const std::vector<std::size_t> checks = code_lines(stack);
    if (checks.empty()) return;
    for (std::size_t i = checks.front() + 1; i < stack.handlers.size(); ++i) {
        const Handler& handler = stack.handlers[i];
        if (handler.kind != HandlerKind::module || role_of(handler) != Role::password) continue;
        const Handler& totp = stack.handlers[checks.front()];
        bool password_before = false;
        for (std::size_t j = 0; j < checks.front(); ++j)
            password_before |= stack.handlers[j].kind == HandlerKind::module &&
                               role_of(stack.handlers[j]) == Role::password;
        if (password_before) return;
        report.add(Finding{service,
                           kKindCodeFirst,
                           totp.source.file,
                           totp.source.line,
                           line_name(totp) +
                               " pam_totp.so asks for the code before the "
                               "password (" +
                               line_name(handler) + " " + handler.module +
                               ".so): anyone can spend a user's code attempts and lock them out",
                           {}});
        return;
    }
}

void report_search(const std::string& service, const Stack& stack, const SearchResult& found,
                   Report& report) {
    if (found.bypass) {
        const Explanation why = explain_bypass(stack, *found.bypass);
        report.add(Finding{service, kKindBypass, why.line ? why.line->source.file : service,
                           why.line ? why.line->source.line : 0, why.sentence,
                           describe_path(stack, *found.bypass)});
    }
    if (found.conditional) {
        std::string conditions;
        for (const Step& step : found.conditional->steps)
            if (!step.condition.empty())
                conditions += (conditions.empty() ? "" : " and ") + step.condition;
        const Explanation why = explain_bypass(stack, *found.conditional);
        report.add(Finding{service, kKindConditional, why.line ? why.line->source.file : "",
                           why.line ? why.line->source.line : 0,
                           "when " + conditions + ": " + why.sentence,
                           describe_path(stack, *found.conditional)});
    }
    if (found.nullok) {
        const Step* ignored = nullptr;
        for (const Step& step : found.nullok->steps)
            if (step.result == PAM_IGNORE &&
                role_of(stack.handlers[step.handler]) == Role::totp_check)
                ignored = &step;
        const Handler& line = stack.handlers[ignored ? ignored->handler : 0];
        report.add(Finding{service, kKindNullok, line.source.file, line.source.line,
                           "with nullok, a user who has not enrolled gets in without a code (" +
                               line_name(line) + " pam_totp.so returns PAM_IGNORE)",
                           describe_path(stack, *found.nullok)});
    }
    if (found.code_after_wrong_password) {
        const Path& path = *found.code_after_wrong_password;
        const Handler& totp = stack.handlers[path.steps.back().handler];
        const Handler* password = nullptr;
        for (const Step& step : path.steps)
            if (!password && role_of(stack.handlers[step.handler]) == Role::password &&
                step.result != PAM_SUCCESS)
                password = &stack.handlers[step.handler];
        std::vector<std::string> lines = describe_path(stack, path, true);
        report.add(Finding{service, kKindPasswordRequired, password->source.file,
                           password->source.line,
                           line_name(*password) + " " + module_and_control(*password) +
                               " lets a wrong password go on to the code check on " +
                               line_name_from(totp, *password) +
                               ": anyone can lock a user out and learn who is enrolled",
                           std::move(lines)});
    }
}

// A line of 1023 bytes or more is one line to the admin and several to libpam 1.5, which
// reads it in pieces: whatever the tail says runs, even behind a '#'.
void report_long_lines(const std::string& service, const Stack& stack, Report& report) {
    for (const LongLine& line : stack.long_lines)
        report.add(Finding{service,
                           kKindBypass,
                           line.source.file,
                           line.source.line,
                           line.source.file + " line " + std::to_string(line.source.line) + " is " +
                               std::to_string(line.length) +
                               " bytes long: libpam reads it in pieces of 1023 bytes, each a line "
                               "of its own, so what it runs is not what the file shows",
                           {}});
}

// totp-check knows pam_totp by its name: say so where a line loads a file of that name from
// elsewhere than the module directory.
void note_other_totp_files(const PamConfigDir& dir, const Stack& stack, Report& report) {
    for (const Handler& handler : stack.handlers) {
        if (handler.kind != HandlerKind::module || handler.module != "pam_totp" ||
            dir.is_module_dir_file(handler.module_path, "pam_totp.so"))
            continue;
        const std::string note = line_name(handler) + " loads " + visible(handler.module_path) +
                                 ", not " +
                                 (dir.module_dir().empty() ? "the module directory's pam_totp.so"
                                                           : dir.module_dir() + "/pam_totp.so") +
                                 ": totp-check takes it to be pam_totp";
        if (std::find(report.notes.begin(), report.notes.end(), note) == report.notes.end())
            report.note(note);
    }
}

}  // namespace

void check_module_dir(const PamConfigDir& dir, Report& report) {
    if (!dir.module_dir().empty()) return;
    report.incomplete = true;
    report.note(
        "no PAM module directory (/lib/*-linux-gnu/security, /lib64/security, /lib/security) "
        "under the root: every module named is taken as installed");
}

std::vector<std::string> services_to_check(const PamConfigDir& dir, Report& report) {
    std::vector<std::string> files;
    bool listed = false;
    for (const std::string& pam_dir : {dir.etc_dir(), dir.vendor_dir()}) {
        const std::optional<std::vector<std::string>> names = list_dir(pam_dir);
        if (!names) continue;
        listed = true;
        for (const std::string& name : *names)
            if (!is_leftover(name) && !dir.find(name).empty()) files.push_back(name);
    }
    if (!listed) {
        report.note("cannot read " + dir.etc_dir() + ": " + std::strerror(ENOENT));
        report.unreadable = true;
        return {};
    }
    std::sort(files.begin(), files.end());
    files.erase(std::unique(files.begin(), files.end()), files.end());
    std::vector<std::string> services;
    for (const char* known : kInteractiveServices)
        if (std::find(files.begin(), files.end(), known) != files.end()) services.push_back(known);
    if (std::find(services.begin(), services.end(), "other") == services.end())
        services.push_back("other");  // libpam's service for every name without a file
    std::vector<std::string> libraries;
    for (const std::string& name : files) {
        if (std::find(services.begin(), services.end(), name) != services.end()) continue;
        if (load_file_auth_stack(dir, name, nullptr).handlers.empty()) continue;
        (is_library(name) ? libraries : services).push_back(name);
    }
    if (!libraries.empty()) {
        std::string names;
        for (const std::string& name : libraries) names += (names.empty() ? "" : ", ") + name;
        report.note("not checked as services (files for other services to include): " + names);
    }
    return services;
}

void check_login_stacks(const PamConfigDir& dir, Report& report) {
    const std::vector<LoginStack> stacks = login_stacks(dir);
    if (!no_login_stack_runs_totp(stacks)) return;
    for (const LoginStack& stack : stacks)
        report.add(Finding{"",
                           kKindNotInStack,
                           dir.display_name(dir.find(stack.name)),
                           stack.insert_after,
                           "no login stack runs pam_totp after the password: logins on this host "
                           "do not ask for a code; " +
                               how_to_add_totp(stack),
                           {}});
}

void check_service(const PamConfigDir& dir, const std::string& service, TotpConfigs& configs,
                   Report& report) {
    const std::string path = dir.find(service);
    if (path.empty() && dir.find("other").empty()) {
        report.note(service + ": no such service and no \"other\" service: libpam refuses it");
        return;
    }
    if (!path.empty() && access(path.c_str(), R_OK) != 0) {
        report.note(service + ": cannot read " + path + ": " + std::strerror(errno));
        report.unreadable = true;
        return;
    }
    const Stack stack = load_auth_stack(dir, service);
    report.services.push_back(service);
    if (stack.uses_other) report.note(service + ": has no auth lines of its own; uses \"other\"");
    for (const std::string& problem : stack.problems) report.note(service + ": " + problem);
    report_long_lines(service, stack, report);
    if (stack.uncertain) report.incomplete = true;
    if (stack.aborted) {
        report.note(service + ": libpam cannot set the service up, so nobody logs in through it");
        return;
    }
    note_other_totp_files(dir, stack, report);
    const std::vector<LineFacts> facts = line_facts(stack, configs);
    const SearchResult found = search_stack(stack, facts, caller_unprivileged(service));
    report_search(service, stack, found, report);
    check_forward_pass(service, stack, report);
    check_code_first(service, stack, report);
    if (!found.can_succeed) report.note(service + ": the auth stack can never succeed");
}

}  // namespace totp_check
