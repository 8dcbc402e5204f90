// SPDX-License-Identifier: Apache-2.0
#include "totp_config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

#include "totp/rollout.hpp"

namespace totp_check {
namespace {

constexpr std::string_view kConfigArgument = "config=";  // as pam_module/options.cpp

std::string octal_mode(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

std::vector<std::string> split(const std::string& text, char separator) {
    std::vector<std::string> fields;
    std::stringstream in(text);
    std::string field;
    while (std::getline(in, field, separator)) fields.push_back(field);
    if (!text.empty() && text.back() == separator) fields.emplace_back();
    return fields;
}

// Where the enrollments are: what decides who counts as not enrolled.
std::tuple<std::string, std::string, std::string> enrollments_at(const totp::Settings& settings) {
    return {settings.store, settings.secret_path, settings.state_dir};
}

// The shells /etc/shells lists (where it cannot be read: any shell but the refusing ones).
bool is_login_shell(const std::string& shell, const std::set<std::string>& shells) {
    if (!shells.empty()) return shells.count(shell) > 0;
    return !shell.empty() && !shell.ends_with("/nologin") && !shell.ends_with("/false");
}

}  // namespace

std::string TotpConfigs::under_root(const std::string& path) const {
    if (root_.empty() || root_ == "/") return path;
    std::string root = root_;
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    return root + path;
}

const totp::Settings& TotpConfigs::file_settings(const std::string& path, bool explicit_path) {
    const auto found = files_.find(path);
    if (found != files_.end()) return found->second;
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    totp::load_config_file(under_root(path), !explicit_path, settings, problems);
    for (const totp::ConfigProblem& problem : problems) {
        report_.add(Finding{
            "",
            kKindConfig,
            path,
            0,
            problem.message + (problem.security_relevant ? " (pam_totp refuses every login)" : ""),
            {}});
    }
    return files_.emplace(path, settings).first->second;
}

totp::Settings TotpConfigs::line_settings(const Handler& handler) {
    std::string path = totp::kDefaultConfigPath;
    bool explicit_path = false;
    for (const std::string& argument : handler.args) {
        if (argument.starts_with(kConfigArgument)) {
            path = argument.substr(kConfigArgument.size());
            explicit_path = true;
        }
    }
    totp::Settings settings = file_settings(path, explicit_path);
    std::vector<totp::ConfigProblem> problems;
    for (const std::string& argument : handler.args) {
        if (argument.starts_with(kConfigArgument)) continue;
        const std::size_t equals = argument.find('=');
        if (equals == std::string::npos) {
            totp::apply_setting(settings, argument, "", problems);
        } else {
            totp::apply_setting(settings, std::string_view(argument).substr(0, equals),
                                std::string_view(argument).substr(equals + 1), problems);
        }
    }
    const std::string where = handler.source.file + ":" + std::to_string(handler.source.line);
    if (reported_lines_.insert(where).second) {
        if (settings.nullok) nullok_lines_.push_back(NullokLine{settings, handler.source});
        report_nullok_with_secret_path(settings, handler, path);
        for (const totp::ConfigProblem& problem : problems)
            report_.add(Finding{"",
                                kKindConfig,
                                handler.source.file,
                                handler.source.line,
                                "pam_totp argument: " + problem.message,
                                {}});
    }
    return settings;
}

// pam_module/options.cpp refuses nullok together with secret_path and fails every login.
void TotpConfigs::report_nullok_with_secret_path(const totp::Settings& settings,
                                                 const Handler& handler,
                                                 const std::string& config_path) {
    if (!settings.nullok || settings.secret_path.empty()) return;
    const std::string nullok = settings.nullok_setting ? "nullok"
                                                       : "the rollout file's 'rollout' (nullok, " +
                                                             totp::rollout_path(config_path) + ")";
    report_.add(Finding{"",
                        kKindConfig,
                        handler.source.file,
                        handler.source.line,
                        nullok + " with secret_path: pam_totp refuses every login through "
                                 "this line (PAM_SERVICE_ERR), root's sudo and su included; run "
                                 "totp-enroll enforce, or roll out with require_group",
                        {}});
}

void TotpConfigs::check_files() {
    const totp::Settings& global = file_settings(totp::kDefaultConfigPath, false);
    report_.note("rollout mode: " + std::string(totp::rollout_name(global.rollout)) + " (" +
                 totp::rollout_path(totp::kDefaultConfigPath) + "): users who have not enrolled " +
                 (global.nullok ? "log in with their password alone" : "are refused"));
    // Counted once for each place enrollments are kept, whether nullok is in a file or is a
    // line's argument.
    std::set<std::tuple<std::string, std::string, std::string>> counted;
    for (const auto& [path, settings] : files_) {
        check_state_dir(settings);
        if (settings.nullok && counted.insert(enrollments_at(settings)).second)
            count_unenrolled(settings, path, 0);
    }
    for (const NullokLine& line : nullok_lines_)
        if (counted.insert(enrollments_at(line.settings)).second)
            count_unenrolled(line.settings, line.source.file, line.source.line);
}

void TotpConfigs::check_state_dir(const totp::Settings& settings) {
    if (settings.store != "files" || !settings.secret_path.empty()) return;
    const std::string path = under_root(settings.state_dir);
    struct stat info {};
    if (lstat(path.c_str(), &info) != 0) {
        report_.note("state directory " + settings.state_dir + ": " + std::strerror(errno) +
                     (errno == ENOENT ? " (nobody is enrolled yet)" : ""));
        return;
    }
    if (!S_ISDIR(info.st_mode)) {
        report_.add(Finding{"",
                            kKindStateDir,
                            settings.state_dir,
                            0,
                            "the state directory is not a directory (or is a symbolic link)",
                            {}});
    } else if (info.st_uid != 0 || (info.st_mode & 066) != 0) {
        // Search permission for group and other (0711) is how the packages make it: callers
        // that are not root can tell an account without a record (see pam_totp(8)).
        report_.add(Finding{"",
                            kKindStateDir,
                            settings.state_dir,
                            0,
                            "the state directory is owned by uid " + std::to_string(info.st_uid) +
                                " with mode " + octal_mode(info.st_mode) +
                                "; it must be root's, mode 0700 or 0711",
                            {}});
    }
}

void TotpConfigs::count_unenrolled(const totp::Settings& settings, const std::string& file,
                                   int line) {
    std::string message = "nullok is on: users who have not enrolled log in without a code";
    std::ifstream passwd(under_root("/etc/passwd"));
    std::ifstream shells_file(under_root("/etc/shells"));
    std::set<std::string> shells;
    for (std::string line; std::getline(shells_file, line);)
        if (line.starts_with("/")) shells.insert(line);
    struct stat dir_info {};
    const std::string state_dir = under_root(settings.state_dir);
    const bool files_layout = settings.store == "files" && settings.secret_path.empty();
    if (!passwd || !files_layout || stat(state_dir.c_str(), &dir_info) != 0 ||
        access(state_dir.c_str(), R_OK | X_OK) != 0) {
        message += " (cannot count them: " +
                   std::string(!passwd         ? "cannot read /etc/passwd"
                               : !files_layout ? "enrollments are not in the state directory"
                                               : "cannot read " + settings.state_dir) +
                   ")";
    } else {
        int accounts = 0;
        int unenrolled = 0;
        for (std::string line; std::getline(passwd, line);) {
            const std::vector<std::string> fields = split(line, ':');
            if (fields.size() < 7 || !is_login_shell(fields[6], shells)) continue;
            ++accounts;
            struct stat info {};
            if (lstat((state_dir + "/" + fields[0]).c_str(), &info) != 0) ++unenrolled;
        }
        message += ": " + std::to_string(unenrolled) + " of the " + std::to_string(accounts) +
                   " accounts with a login shell have not enrolled";
    }
    report_.add(Finding{"", kKindNullok, file, line, message, {}});
}

}  // namespace totp_check
