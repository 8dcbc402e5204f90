// SPDX-License-Identifier: Apache-2.0
// Reading /etc/security/pam_totp.conf: one open, checks on that descriptor, iniparser over
// exactly the bytes read from it, and the file's layout (which key sits in which section).
#include "config_file.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <map>
#include <mutex>
#include <span>
#include <system_error>

#include "totp/text.hpp"
#include "totp/unique_fd.hpp"

namespace totp {
namespace {

using detail::Dictionary;

using detail::kMaxEchoedPath;

constexpr std::size_t kMaxConfigSize = 64 * 1024;

// --- Which section each key belongs to -----------------------------------------------------

// [global] holds the keys of the table in config.cpp. [reset] holds those of mail.cpp (SMTP)
// and reset_settings.cpp, named here because the module must not link those files (mail.cpp
// brings libcurl); a unit test keeps this list equal to theirs.
constexpr std::string_view kResetKeys[] = {
    // mail.cpp
    "smtp_url",
    "smtp_starttls",
    "smtp_user",
    "smtp_password_file",
    "smtp_ca_file",
    "mail_from",
    "smtp_timeout",
    "smtp_retries",
    // reset_settings.cpp
    "base_url",
    "listen",
    "user",
    "chroot_dir",
    "site_name",
    "client_ip_header",
    "trusted_proxies",
    "token_lifetime",
    "max_connections",
    "connection_timeout",
    "max_body",
    "requests_per_ip",
    "mails_per_account",
    "failures_per_ip",
    "reset_subject",
    "changed_subject",
    "template_dir",
    "reset_exclude_groups",
};

bool is_section(std::string_view name) {
    return name == "global" || name == "reset";
}

// The section `key` belongs to, or "" for a key of no section; `global` is setting_names().
std::string_view home_section(std::string_view key, const std::vector<std::string_view>& global) {
    if (std::find(global.begin(), global.end(), key) != global.end()) return "global";
    if (std::find(std::begin(kResetKeys), std::end(kResetKeys), key) != std::end(kResetKeys)) {
        return "reset";
    }
    return {};
}

// --- Reading the checked descriptor --------------------------------------------------------

std::string errno_text(int error) {
    return std::error_code(error, std::generic_category()).message();
}

// Why the opened file may not be trusted as configuration, or nullopt if it may.
std::optional<std::string> unsafe_file_reason(const struct stat& st) {
    if (!S_ISREG(st.st_mode)) return "not a regular file";
    if (st.st_uid != 0) return "not owned by root";
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) return "writable by group or other";
    if (static_cast<std::size_t>(st.st_size) > kMaxConfigSize) return "larger than 64 KiB";
    return std::nullopt;
}

// The whole file, or why it cannot be had: it may have grown since fstat.
Result<std::string> read_all(int fd) {
    std::string text(kMaxConfigSize + 1, '\0');
    std::size_t length = 0;
    while (length < text.size()) {
        const ssize_t got = ::read(fd, text.data() + length, text.size() - length);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return make_error(Errc::io, errno_text(errno));
        if (got == 0) break;
        length += static_cast<std::size_t>(got);
    }
    if (length > kMaxConfigSize) return make_error(Errc::unsafe, "larger than 64 KiB");
    text.resize(length);
    return text;
}

bool write_all(int fd, std::string_view text) {
    while (!text.empty()) {
        const ssize_t put = ::write(fd, text.data(), text.size());
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return false;
        text.remove_prefix(static_cast<std::size_t>(put));
    }
    return true;
}

// --- iniparser over those bytes ------------------------------------------------------------

// What iniparser reported while parsing: line numbers only, never its text (the default
// callback prints the offending line on stderr, which for totp-enroll is an unprivileged
// caller's terminal, and the line may hold a password).
struct ParserReport {
    std::array<int, 8> lines{};  // syntax errors and over-long lines
    std::size_t count = 0;       // how many were reported, also past the array
};

// iniparser's error callback is one process-wide pointer, and the module can be unloaded
// (pam_end) while libiniparser stays loaded for another user in the same process. So it
// points at record_parser_error only while parser_mutex is held, and is reset to
// iniparser's default afterwards; a parse by another library on another thread meanwhile
// finds no report of its own and its messages are dropped, not printed. (No thread_local:
// the module is dlclose()d at pam_end, and a dlclose()d object's TLS is left dangling in
// every thread's TLS vector.)
std::mutex parser_mutex;
// Set under parser_mutex; atomic because another library's parse on another thread may run
// the callback meanwhile and read them.
std::atomic<ParserReport*> active_report = nullptr;
std::atomic<pthread_t> active_parser{};  // the thread whose parse active_report is for

// Called by iniparser (C): must not throw. Its messages that carry a line number pass the
// input name and the number first ("... in %s (%d)..."); the others (cannot open, out of
// memory) carry nothing a refusal could name.
int record_parser_error(const char* format, ...) {
    ParserReport* report = active_report.load();
    if (report == nullptr || !pthread_equal(active_parser.load(), pthread_self())) return 0;
    if (std::strstr(format, "%s (%d)") == nullptr) return 0;
    std::va_list args;
    va_start(args, format);
    va_arg(args, const char*);
    const int line = va_arg(args, int);
    va_end(args);
    if (report->count < report->lines.size()) report->lines[report->count] = line;
    ++report->count;
    return 0;
}

std::string parse_failure(const ParserReport& report) {
    if (report.count == 0) return "cannot be parsed (is /proc mounted?)";
    std::string text = report.count == 1 ? "syntax error at line " : "syntax errors at lines ";
    const std::size_t shown = std::min(report.count, report.lines.size());
    for (std::size_t i = 0; i < shown; ++i) {
        text += (i == 0 ? "" : ", ") + std::to_string(report.lines[i]);
    }
    if (report.count > shown) text += ", ...";
    return text;
}

// iniparser 4.1 parses only a named file. A memfd holding the bytes already read from the
// checked descriptor is such a file (through /proc/self/fd), so iniparser sees exactly
// what was checked and what index_lines() reads.
Result<Dictionary> parse(std::string_view text) {
    const UniqueFd memory(::memfd_create("pam_totp.conf", MFD_CLOEXEC));
    if (!memory.valid() || !write_all(memory.get(), text)) {
        return make_error(Errc::io, "cannot be handed to the parser: " + errno_text(errno));
    }
    const std::string name = "/proc/self/fd/" + std::to_string(memory.get());
    ParserReport report;
    Dictionary dict;
    {
        const std::lock_guard lock(parser_mutex);
        active_parser = pthread_self();
        active_report = &report;
        iniparser_set_error_callback(record_parser_error);
        dict.reset(iniparser_load(name.c_str()));
        iniparser_set_error_callback(nullptr);
        active_report = nullptr;
    }
    if (!dict) return make_error(Errc::corrupt, parse_failure(report));
    return dict;
}

// --- Where each entry was written ----------------------------------------------------------

// Line numbers of the section headers and keys, by iniparser's names for them ("section"
// and "section:key", in lower case). iniparser's dictionary holds neither line numbers nor
// keys set twice; this reads the same bytes by the rules of iniparser_load() in 4.1: a line
// ending in '\' continues on the next, lines are stripped of white space, '#' and ';' start
// comments, "[name]" opens a section ("[]" keeps the current one) and a key is what comes
// before the first '='.
using LineIndex = std::map<std::string, std::vector<int>, std::less<>>;

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

std::string_view strip(std::string_view text) {
    while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    return text;
}

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

LineIndex index_lines(std::string_view text) {
    LineIndex index;
    std::string section;
    std::string logical;  // physical lines joined by a trailing '\'
    int number = 0;
    int first = 0;  // where the logical line starts
    while (!text.empty()) {
        const std::size_t end = std::min(text.find('\n'), text.size());
        std::string_view line = text.substr(0, end);
        text.remove_prefix(std::min(end + 1, text.size()));
        if (logical.empty()) first = number + 1;
        ++number;
        while (!line.empty() && is_space(line.back())) line.remove_suffix(1);
        if (line.ends_with('\\')) {
            logical += line.substr(0, line.size() - 1);
            continue;
        }
        logical += line;
        const std::string_view content = strip(logical);
        if (content.starts_with('[') && content.ends_with(']')) {
            const std::string_view name = content.substr(1, content.find(']') - 1);
            if (!name.empty()) section = lower(strip(name));
            index[section].push_back(first);
        } else if (const std::size_t equals = content.find('=');
                   equals != std::string_view::npos && equals > 0 && !content.starts_with('#') &&
                   !content.starts_with(';')) {
            index[section + ":" + lower(strip(content.substr(0, equals)))].push_back(first);
        }
        logical.clear();
    }
    return index;
}

// --- The file's layout ---------------------------------------------------------------------

class LayoutCheck {
  public:
    LayoutCheck(const std::string& path, LineIndex lines, std::vector<ConfigProblem>& problems)
        : path_(path), lines_(std::move(lines)), problems_(problems) {}

    // Reports every entry that is not a known key in its own section, set once, with a
    // yes/no value if it takes one, and removes the misplaced and empty ones from `dict`, so
    // no loader applies them. All are security-relevant: a setting that is not read must not
    // look enforced.
    void run(dictionary& dict) {
        std::vector<std::string> dropped;
        for (ssize_t i = 0; i < dict.size; ++i) {
            if (dict.key[i] == nullptr) continue;
            const std::string_view entry = dict.key[i];
            // iniparser stores a section header as a key without value.
            if (dict.val[i] == nullptr) {
                if (!is_section(entry)) add(entry, "unknown section [" + printable(entry) + "]");
            } else if (!check_key(entry, dict.val[i])) {
                dropped.emplace_back(entry);
            }
        }
        for (const std::string& entry : dropped) dictionary_unset(&dict, entry.c_str());
    }

  private:
    // False if the entry must not be applied.
    bool check_key(std::string_view entry, std::string_view value) {
        const std::size_t colon = entry.find(':');
        const std::string_view section = entry.substr(0, colon);
        const std::string_view key = entry.substr(colon + 1);
        const std::string named = "'" + printable(key) + "'";
        const std::string in_section = "[" + printable(section) + "]";
        const std::string_view home = home_section(key, global_keys_);
        if (section.empty()) {
            add(entry, named + " is outside any section");
        } else if (!is_section(section)) {
            add(entry, named + " is in unknown section " + in_section);
        } else if (home.empty()) {
            add(entry, "unknown setting " + named + " in " + in_section);
        } else if (home != section) {
            add(entry, named + " belongs in [" + std::string(home) + "], not " + in_section);
        } else if (value.empty() && detail::is_yes_no_setting(key)) {
            add(entry, "empty value for " + named + " in " + in_section + " (expected yes or no)");
        } else {
            // iniparser keeps the last value; the admin may have meant either.
            if (lines_of(entry).size() > 1) {
                add(entry, named + " is set more than once in " + in_section);
            }
            return true;
        }
        return false;
    }

    std::span<const int> lines_of(std::string_view entry) const {
        const auto found = lines_.find(entry);
        return found == lines_.end() ? std::span<const int>{} : found->second;
    }

    // One line naming the file and the line whose value iniparser kept, never the value.
    void add(std::string_view entry, const std::string& what) {
        std::string where = "config " + printable(path_, kMaxEchoedPath);
        const std::span<const int> lines = lines_of(entry);
        if (!lines.empty()) where += ", line " + std::to_string(lines.back());
        detail::add_problem(problems_, {where + ": " + what, true});
    }

    const std::string& path_;
    LineIndex lines_;
    std::vector<ConfigProblem>& problems_;
    std::vector<std::string_view> global_keys_ = setting_names();
};

}  // namespace

std::vector<std::string_view> section_key_names(std::string_view section) {
    if (section == "global") return setting_names();
    if (section == "reset") return {std::begin(kResetKeys), std::end(kResetKeys)};
    return {};
}

int setting_line(const std::string& path, std::string_view key) {
    const Result<std::optional<std::string>> text = detail::read_trusted_file(path, false);
    if (!text || !*text) return 0;
    const LineIndex lines = index_lines(**text);
    const auto found = lines.find("global:" + lower(key));
    return found == lines.end() || found->second.empty() ? 0 : found->second.back();
}

namespace detail {

void add_problem(std::vector<ConfigProblem>& problems, ConfigProblem problem) {
    for (const ConfigProblem& known : problems) {
        if (known.message == problem.message) return;
    }
    problems.push_back(std::move(problem));
}

Dictionary load_trusted_dictionary(const std::string& path, bool missing_ok,
                                   std::vector<ConfigProblem>& problems) {
    const auto refuse = [&](const std::string& reason) {
        add_problem(problems, {"config " + printable(path, kMaxEchoedPath) + ": " + reason, true});
        return nullptr;
    };
    const Result<std::optional<std::string>> text = read_trusted_file(path, missing_ok);
    if (!text) return refuse(text.error().message);
    if (!*text) return nullptr;

    Result<Dictionary> dict = parse(**text);
    if (!dict) return refuse(dict.error().message);
    LayoutCheck(path, index_lines(**text), problems).run(**dict);
    return std::move(dict).value();
}

Result<std::optional<std::string>> read_trusted_file(const std::string& path, bool missing_ok) {
    if (!path.starts_with('/')) return make_error(Errc::unsafe, "not an absolute path");
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
    if (!fd.valid()) {
        const int error = errno;
        if (error == ENOENT && missing_ok) return std::optional<std::string>();
        return make_error(Errc::unsafe, error == ELOOP ? "is a symlink" : errno_text(error));
    }
    struct stat opened {};
    if (::fstat(fd.get(), &opened) != 0) return make_error(Errc::io, errno_text(errno));
    if (const auto reason = unsafe_file_reason(opened)) return make_error(Errc::unsafe, *reason);
    Result<std::string> text = read_all(fd.get());
    if (!text) return text.error();
    // iniparser would read up to a NUL and no further on that line; what it skipped could
    // not be checked.
    if (text->find('\0') != std::string::npos) return make_error(Errc::unsafe, "holds a NUL byte");
    return std::optional<std::string>(std::move(*text));
}

}  // namespace detail
}  // namespace totp
