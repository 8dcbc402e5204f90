// SPDX-License-Identifier: Apache-2.0
#include "sshd_config.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string_view>

namespace totp_check {
namespace {

constexpr int kMaxIncludeDepth = 16;  // sshd's own limit

std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
}

std::string trim(const std::string& text) {
    const std::size_t start = text.find_first_not_of(" \t\r");
    if (start == std::string::npos) return "";
    return text.substr(start, text.find_last_not_of(" \t\r") - start + 1);
}

// The words of a value as sshd's argv_split makes them: quotes group and are dropped, a
// backslash escapes a quote or backslash, and a word starting with '#' ends the line.
std::vector<std::string> split_words(const std::string& text) {
    std::vector<std::string> words;
    std::size_t at = 0;
    while (true) {
        while (at < text.size() && (text[at] == ' ' || text[at] == '\t')) ++at;
        if (at >= text.size() || text[at] == '#') break;
        std::string word;
        char quote = 0;
        for (; at < text.size(); ++at) {
            const char c = text[at];
            if (c == '\\' && at + 1 < text.size() &&
                (text[at + 1] == '"' || text[at + 1] == '\'' || text[at + 1] == '\\')) {
                word += text[++at];
            } else if (quote != 0 && c == quote) {
                quote = 0;
            } else if (quote == 0 && (c == '"' || c == '\'')) {
                quote = c;
            } else if (quote == 0 && (c == ' ' || c == '\t')) {
                break;
            } else {
                word += c;
            }
        }
        words.push_back(word);
    }
    return words;
}

// "Keyword value", "Keyword=value"; ChallengeResponseAuthentication is the old name of
// KbdInteractiveAuthentication.
bool split_keyword(const std::string& line, std::string& keyword, std::string& value) {
    const std::string text = trim(line);
    if (text.empty() || text[0] == '#') return false;
    const std::size_t end = text.find_first_of(" \t=");
    keyword = lower(text.substr(0, end));
    if (keyword == "challengeresponseauthentication") keyword = "kbdinteractiveauthentication";
    std::string rest = end == std::string::npos ? "" : trim(text.substr(end));
    if (!rest.empty() && rest[0] == '=') rest = trim(rest.substr(1));
    value.clear();
    for (const std::string& word : split_words(rest)) value += (value.empty() ? "" : " ") + word;
    return true;
}

// sshd's wildcards: '*' matches any run of characters, '?' any one.
bool wildcard_match(std::string_view text, std::string_view pattern) {
    if (pattern.empty()) return text.empty();
    if (pattern[0] == '*') {
        for (std::size_t skip = 0; skip <= text.size(); ++skip)
            if (wildcard_match(text.substr(skip), pattern.substr(1))) return true;
        return false;
    }
    return !text.empty() && (pattern[0] == '?' || pattern[0] == text[0]) &&
           wildcard_match(text.substr(1), pattern.substr(1));
}

// A comma-separated list of patterns as sshd reads it: a matching "!pattern" rules the name
// out, otherwise any matching pattern lets it in.
bool name_in_list(const std::string& name, const std::string& list) {
    bool matched = false;
    std::stringstream patterns(list);
    for (std::string pattern; std::getline(patterns, pattern, ',');) {
        if (pattern.starts_with("!")) {
            if (wildcard_match(name, std::string_view(pattern).substr(1))) return false;
        } else {
            matched |= wildcard_match(name, pattern);
        }
    }
    return matched;
}

// Whether root can meet a Match line's criteria (all of which must hold): only a User
// criterion tells; root may log in from any address and be in any group.
bool may_apply_to_root(const std::string& criteria) {
    const std::vector<std::string> words = split_words(criteria);
    for (std::size_t i = 0; i < words.size(); ++i) {
        const std::string keyword = lower(words[i]);
        if (keyword == "all" || i + 1 >= words.size()) continue;
        if (keyword == "user" && !name_in_list("root", words[i + 1])) return false;
        ++i;
    }
    return true;
}

class FileReader {
  public:
    FileReader(std::string root, SshdConfig& config, Report& report)
        : root_(std::move(root)), config_(config), report_(report) {}

    bool read(const std::string& path, SshdSettings* context, int depth) {
        std::ifstream in(root_ + path);
        if (!in) return false;
        SshdSettings* current = context;
        int number = 0;
        for (std::string line; std::getline(in, line);) {
            ++number;
            std::string keyword;
            std::string value;
            if (!split_keyword(line, keyword, value)) continue;
            if (keyword == "include") {
                include(value, current, depth);
            } else if (keyword == "match") {
                current = start_match(value);  // "Match all" too: it overrides the globals
            } else if (!current->values.count(keyword)) {
                current->values[keyword] = SshdSetting{value, root_ + path, number};
            }
        }
        return true;
    }

  private:
    SshdSettings* start_match(const std::string& criteria) {
        config_.matches.push_back(
            SshdSettings{"sshd (Match " + criteria + ")", {}, may_apply_to_root(criteria)});
        return &config_.matches.back();
    }

    void include(const std::string& patterns, SshdSettings* context, int depth) {
        if (depth >= kMaxIncludeDepth) {
            report_.note("sshd: Include nested too deep at " + patterns);
            return;
        }
        std::stringstream words(patterns);
        for (std::string pattern; words >> pattern;) {
            if (pattern[0] != '/') pattern = "/etc/ssh/" + pattern;
            glob_t found{};
            if (glob((root_ + pattern).c_str(), 0, nullptr, &found) == 0) {
                for (std::size_t i = 0; i < found.gl_pathc; ++i)
                    read(std::string(found.gl_pathv[i]).substr(root_.size()), context, depth + 1);
            }
            globfree(&found);
        }
    }

    std::string root_;
    SshdConfig& config_;
    Report& report_;
};

std::string value_of(const SshdSettings& global, const SshdSettings* match,
                     const std::string& keyword, const char* fallback) {
    if (match && match->values.count(keyword)) return match->values.at(keyword).value;
    if (global.values.count(keyword)) return global.values.at(keyword).value;
    return fallback;
}

const SshdSetting* setting_of(const SshdSettings& global, const SshdSettings* match,
                              const std::string& keyword) {
    if (match && match->values.count(keyword)) return &match->values.at(keyword);
    if (global.values.count(keyword)) return &global.values.at(keyword);
    return nullptr;
}

bool yes(const std::string& value) {
    return lower(value) == "yes";
}

// sshd's defaults (OpenSSH 9) for what an empty config leaves unset.
struct Effective {
    const SshdSettings& global;
    const SshdSettings* match;

    std::string get(const std::string& keyword, const char* fallback) const {
        return value_of(global, match, keyword, fallback);
    }
    bool enabled(const std::string& method) const {
        if (method == "publickey") return yes(get("pubkeyauthentication", "yes"));
        if (method == "password") return yes(get("passwordauthentication", "yes"));
        if (method == "keyboard-interactive")
            return yes(get("kbdinteractiveauthentication", "yes"));
        if (method == "hostbased") return yes(get("hostbasedauthentication", "no"));
        if (method == "gssapi-with-mic") return yes(get("gssapiauthentication", "no"));
        return false;
    }
    std::vector<std::vector<std::string>> method_lists() const {
        const std::string methods = get("authenticationmethods", "any");
        std::vector<std::vector<std::string>> lists;
        if (lower(methods) == "any") {
            for (const char* method :
                 {"publickey", "password", "keyboard-interactive", "hostbased", "gssapi-with-mic"})
                lists.push_back({method});
        } else {
            std::stringstream words(methods);
            for (std::string list; words >> list;) {
                std::vector<std::string> methods_in_list;
                std::stringstream parts(list);
                for (std::string method; std::getline(parts, method, ',');)
                    methods_in_list.push_back(lower(method.substr(0, method.find(':'))));
                lists.push_back(methods_in_list);
            }
        }
        lists.erase(std::remove_if(lists.begin(), lists.end(),
                                   [&](const std::vector<std::string>& list) {
                                       return !std::all_of(
                                           list.begin(), list.end(),
                                           [&](const std::string& m) { return enabled(m); });
                                   }),
                    lists.end());
        return lists;
    }
};

std::string joined(const std::vector<std::string>& list) {
    std::string text;
    for (const std::string& method : list) text += (text.empty() ? "" : ",") + method;
    return text;
}

std::vector<Finding> sshd_findings(const SshdSettings& global, const SshdSettings* match,
                                   const std::string& label) {
    const Effective settings{global, match};
    std::vector<Finding> findings;
    auto add = [&](const std::string& keyword, const std::string& message) {
        const SshdSetting* where = setting_of(global, match, keyword);
        findings.push_back(Finding{
            label, kKindSshd, where ? where->file : "", where ? where->line : 0, message, {}});
    };
    const bool pam = yes(settings.get("usepam", "no"));
    if (!pam)
        add("usepam",
            "UsePAM no: sshd checks passwords itself and never runs the PAM stack, "
            "so no ssh login is asked for a code");
    if (!yes(settings.get("kbdinteractiveauthentication", "yes")))
        add("kbdinteractiveauthentication",
            "KbdInteractiveAuthentication no: the PAM conversation that asks for the code is "
            "off");
    bool key_alone = false;
    for (const std::vector<std::string>& list : settings.method_lists()) {
        const auto has = [&](const char* m) {
            return std::find(list.begin(), list.end(), m) != list.end();
        };
        if (pam && has("keyboard-interactive")) continue;
        const std::string keyword =
            setting_of(global, match, "authenticationmethods")
                ? "authenticationmethods"
                : (has("password") ? "passwordauthentication" : "pubkeyauthentication");
        if (pam && has("password")) {
            add(keyword, "AuthenticationMethods allows " + joined(list) +
                             " without keyboard-interactive: sshd answers every PAM question, "
                             "the code's too, with the password, so an enrolled user is never "
                             "asked for the code and cannot log in this way");
            continue;
        }
        key_alone |= list == std::vector<std::string>{"publickey"};
        add(keyword, "AuthenticationMethods allows " + joined(list) +
                         (list.size() == 1 ? " alone" : "") +
                         (has("password") ? " (PasswordAuthentication bypasses the PAM "
                                            "conversation)"
                                          : "") +
                         ": that ssh login is never asked for a code");
    }
    const std::string root_login = lower(settings.get("permitrootlogin", "prohibit-password"));
    if (key_alone && root_login != "no" && (match == nullptr || match->may_apply_to_root))
        add("permitrootlogin", "PermitRootLogin " + root_login +
                                   ": root logs in over ssh with a key alone, without a code");
    return findings;
}

}  // namespace

bool read_sshd_files(const std::string& root, SshdConfig& config, Report& report) {
    std::string base = root;
    while (!base.empty() && base.back() == '/') base.pop_back();
    config.global.label = "sshd";
    FileReader reader(base, config, report);
    if (!reader.read("/etc/ssh/sshd_config", &config.global, 0)) {
        report.note("sshd: no " + base + "/etc/ssh/sshd_config; sshd not checked");
        return false;
    }
    return true;
}

namespace {

// Runs `SSHD -T` (by its path, no shell), stderr with stdout; its output, or nullopt with
// `error` set.
std::optional<std::string> run_sshd_t(const char* sshd, std::string& error) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
        error = "cannot run sshd -T";
        return std::nullopt;
    }
    std::vector<std::string> words = {sshd, "-T"};
    std::vector<char*> argv;
    for (std::string& word : words) argv.push_back(word.data());
    argv.push_back(nullptr);
    const pid_t child = fork();
    if (child == 0) {
        dup2(pipe_fds[1], STDOUT_FILENO);
        dup2(pipe_fds[1], STDERR_FILENO);
        execv(sshd, argv.data());
        _exit(127);
    }
    close(pipe_fds[1]);
    std::string output;
    std::array<char, 4096> buffer{};
    for (ssize_t got; (got = read(pipe_fds[0], buffer.data(), buffer.size())) != 0;) {
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) break;
        output.append(buffer.data(), static_cast<std::size_t>(got));
    }
    close(pipe_fds[0]);
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
        error = "sshd -T failed: " + trim(output.substr(0, output.find('\n')));
        return std::nullopt;
    }
    return output;
}

// Runs sshd -T into `settings`; false with `error` set.
bool read_sshd_t_output(const char* sshd, SshdSettings& settings, std::string& error) {
    const std::optional<std::string> output = run_sshd_t(sshd, error);
    if (!output) return false;
    std::stringstream lines(*output);
    for (std::string line; std::getline(lines, line);) {
        std::string keyword;
        std::string value;
        if (split_keyword(line, keyword, value) && !settings.values.count(keyword))
            settings.values[keyword] = SshdSetting{value, "sshd -T", 0};
    }
    return true;
}

const char* find_sshd() {
    for (const char* path : {"/usr/sbin/sshd", "/usr/local/sbin/sshd", "/sbin/sshd"})
        if (access(path, X_OK) == 0) return path;
    return nullptr;
}

}  // namespace

bool read_sshd_t(SshdConfig& config, Report& report) {
    const char* sshd = find_sshd();
    if (sshd == nullptr) {
        report.note("sshd is not installed; sshd not checked");
        return false;
    }
    std::string error;
    config.global.label = "sshd";
    if (!read_sshd_t_output(sshd, config.global, error)) {
        report.note("sshd: " + error + "; sshd not checked");
        report.incomplete = true;
        return false;
    }
    // sshd -T leaves out the Match blocks, which apply only to some connections: read them
    // from the files and check each over sshd's global values, as --root does.
    SshdSettings file_globals;
    FileReader reader("", config, report);
    if (!reader.read("/etc/ssh/sshd_config", &file_globals, 0)) {
        report.note("sshd: cannot read /etc/ssh/sshd_config; its Match blocks are not checked");
        report.incomplete = true;
    }
    return true;
}

void check_sshd(const SshdConfig& config, Report& report) {
    const std::vector<Finding> global = sshd_findings(config.global, nullptr, "sshd");
    std::set<std::string> seen;
    for (const Finding& finding : global) {
        seen.insert(finding.message);
        report.add(finding);
    }
    for (const SshdSettings& match : config.matches) {
        for (const Finding& finding : sshd_findings(config.global, &match, match.label))
            if (!seen.count(finding.message)) report.add(finding);
    }
}

}  // namespace totp_check
