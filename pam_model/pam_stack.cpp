// SPDX-License-Identifier: Apache-2.0
#include "pam_stack.hpp"

#include <glob.h>
#include <strings.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace totp_check {
namespace {

// libpam gives up on substacks nested deeper than this (PAM_SUBSTACK_MAX_LEVEL).
constexpr int kMaxLevel = 16;
// libpam 1.6 and later also fail an include nested this deep; 1.5 follows any depth (and
// recurses on a loop until it crashes).
constexpr int kMaxIncludeDepth = 16;

constexpr const char* kReturnNames[_PAM_RETURN_VALUES] = {
    "success",
    "open_err",
    "symbol_err",
    "service_err",
    "system_err",
    "buf_err",
    "perm_denied",
    "auth_err",
    "cred_insufficient",
    "authinfo_unavail",
    "user_unknown",
    "maxtries",
    "new_authtok_reqd",
    "acct_expired",
    "session_err",
    "cred_unavail",
    "cred_expired",
    "cred_err",
    "no_module_data",
    "conv_err",
    "authtok_err",
    "authtok_recover_err",
    "authtok_lock_busy",
    "authtok_disable_aging",
    "try_again",
    "ignore",
    "abort",
    "authtok_expired",
    "module_unknown",
    "bad_item",
    "conv_again",
    "incomplete",
};
constexpr const char* kActionNames[] = {"ignore", "ok", "done", "bad", "die", "reset"};

struct LogicalLine {
    int number;
    std::string text;
};

// libpam 1.5 reads a line into a buffer of this size with fgets: a longer physical line
// is read in pieces, each piece a line of its own (comment or not).
constexpr std::size_t kLineBuffer = 1024;

struct FileLines {
    std::vector<LogicalLine> lines;
    std::vector<std::pair<int, std::size_t>> long_lines;  // line number, length
    bool broken = false;   // libpam gives up on the file: overflow, or "\" on the last line
    bool has_nul = false;  // libpam's lines end at a NUL byte (C strings); ours do not
};

// Like fgets(buffer, size, f): up to size - 1 characters, up to and including a newline.
std::string read_piece(const std::string& data, std::size_t& at, std::size_t size) {
    const std::size_t newline = data.find('\n', at);
    const std::size_t end =
        std::min({newline == std::string::npos ? data.size() : newline + 1, at + size - 1});
    std::string piece = data.substr(at, end - at);
    at = end;
    return piece;
}

// Physical lines of kLineBuffer - 1 bytes or more: libpam reads them otherwise than an editor
// shows them.
std::vector<std::pair<int, std::size_t>> find_long_lines(const std::string& data) {
    std::vector<std::pair<int, std::size_t>> found;
    int number = 1;
    for (std::size_t at = 0; at < data.size(); ++number) {
        std::size_t end = data.find('\n', at);
        if (end == std::string::npos) end = data.size();
        if (end - at >= kLineBuffer - 1) found.emplace_back(number, end - at);
        at = end + 1;
    }
    return found;
}

// Like libpam 1.5's _pam_assemble_line: pieces read with fgets into one buffer, blank and
// comment pieces skipped, '#' ends the line, a trailing backslash joins the next piece.
FileLines read_logical_lines(std::istream& in) {
    const std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    FileLines file;
    file.long_lines = find_long_lines(data);
    file.has_nul = data.find('\0') != std::string::npos;
    std::size_t at = 0;
    int number = 1;  // the physical line `at` is in
    while (true) {
        std::string buffer;  // what libpam's buffer holds before its write position
        int first = 0;
        bool done = false;
        while (!done) {
            if (buffer.size() + 1 >= kLineBuffer) {  // no room for another character
                file.broken = true;
                return file;
            }
            if (at >= data.size()) {
                if (first != 0) file.broken = true;  // a backslash on the last line
                return file;
            }
            const int piece_line = number;
            std::string piece = read_piece(data, at, kLineBuffer - buffer.size());
            if (piece.ends_with('\n')) ++number;
            const std::size_t start = piece.find_first_not_of(" \n\t");
            if (start == std::string::npos || piece[start] == '#') continue;
            if (first == 0) first = piece_line;
            const std::size_t hash = piece.find('#', start);
            if (hash != std::string::npos) {
                buffer += piece.substr(0, hash);
                done = true;
                continue;
            }
            const std::size_t last = piece.find_last_not_of(" \t\n");
            if (piece[last] == '\\') {
                buffer += piece.substr(0, last) + " ";
                continue;
            }
            buffer += piece;
            done = true;
        }
        file.lines.push_back({first, buffer});
    }
}

// libpam separates tokens with these only (a carriage return is part of a token).
bool is_separator(char c) {
    return c == ' ' || c == '\t' || c == '\n';
}

// Like _pam_StrTok: spaces, tabs and newlines separate, "[...]" is one token (without its brackets,
// "\]" inside it stands for "]").
std::vector<std::string> tokenize(const std::string& text) {
    std::vector<std::string> tokens;
    std::size_t at = 0;
    while (true) {
        while (at < text.size() && is_separator(text[at])) ++at;
        if (at >= text.size()) break;
        std::string token;
        if (text[at] == '[') {
            ++at;
            while (at < text.size() && text[at] != ']') {
                if (text[at] == '\\' && at + 1 < text.size() && text[at + 1] == ']') ++at;
                token += text[at++];
            }
            if (at < text.size()) ++at;
        } else {
            while (at < text.size() && !is_separator(text[at])) token += text[at++];
        }
        tokens.push_back(token);
    }
    return tokens;
}

bool same_word(const std::string& a, const char* b) {
    return strcasecmp(a.c_str(), b) == 0;
}

void set_default(Actions& actions, int action, const std::vector<bool>& set) {
    for (std::size_t i = 0; i < actions.size(); ++i)
        if (!set[i]) actions[i] = action;
}

// Like _pam_parse_control: "value=action" pairs, names matched as prefixes; any error
// makes every value "bad".
void parse_bracket_control(const std::string& text, Actions& actions) {
    std::vector<bool> set(actions.size(), false);
    std::size_t at = 0;
    auto skip_space = [&] {
        while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
    };
    auto fail = [&] {
        actions.fill(kBad);
        std::fill(set.begin(), set.end(), true);
    };
    while (true) {
        skip_space();
        if (at >= text.size()) break;
        int value = -1;
        bool is_default = false;
        for (int i = 0; i < _PAM_RETURN_VALUES; ++i) {
            if (text.compare(at, std::string(kReturnNames[i]).size(), kReturnNames[i]) == 0) {
                value = i;
                at += std::string(kReturnNames[i]).size();
                break;
            }
        }
        if (value < 0 && text.compare(at, 7, "default") == 0) {
            is_default = true;
            at += 7;
        }
        if (value < 0 && !is_default) return fail();
        skip_space();
        if (at >= text.size() || text[at] != '=') return fail();
        ++at;
        skip_space();
        if (at >= text.size()) return fail();
        int action = 1;
        bool named = false;
        for (int i = 0; i < 6; ++i) {
            const std::string name = kActionNames[i];
            if (text.compare(at, name.size(), name) == 0) {
                action = -i;
                at += name.size();
                named = true;
                break;
            }
        }
        if (!named) {
            if (at >= text.size() || !std::isdigit(static_cast<unsigned char>(text[at])))
                return fail();
            action = 0;
            while (at < text.size() && std::isdigit(static_cast<unsigned char>(text[at])))
                action = action * 10 + (text[at++] - '0');
            if (action == 0) return fail();
        }
        if (is_default) {
            set_default(actions, action, set);
            std::fill(set.begin(), set.end(), true);
        } else {
            actions[value] = action;
            set[value] = true;
        }
    }
    set_default(actions, kBad, set);
}

bool is_file(const std::string& path) {
    struct stat info {};
    return stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool is_dir(const std::string& path) {
    struct stat info {};
    return stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// libpam loads a module named without a directory from the one directory it was built
// with: Debian's multiarch one, /lib64/security (Fedora, SUSE) or /lib/security (Arch).
std::string find_module_dir(const std::string& root) {
    for (const char* pattern :
         {"/lib/*-linux-gnu*/security", "/usr/lib/*-linux-gnu*/security", "/lib64/security",
          "/usr/lib64/security", "/lib/security", "/usr/lib/security"}) {
        glob_t found{};
        std::string dir;
        if (glob((root + pattern).c_str(), 0, nullptr, &found) == 0 && found.gl_pathc > 0)
            dir = std::string(found.gl_pathv[0]).substr(root.size());
        globfree(&found);
        if (!dir.empty() && is_dir(root + dir)) return dir;
    }
    return "";
}

std::string module_name(const std::string& path) {
    std::string name = path.substr(path.find_last_of('/') + 1);
    const std::size_t dot = name.rfind('.');
    if (dot != std::string::npos) name.resize(dot);
    return name;
}

// What a builder keeps: a service's auth stack as libpam runs it, or every line naming a
// module (load_module_lines), files shown by their host path, the first one perhaps in
// pam.conf's format.
enum class Scope { auth_stack, module_lines, pam_conf_lines };

class StackBuilder {
  public:
    StackBuilder(const PamConfigDir& dir, Stack& stack, std::vector<std::string>* included,
                 Scope scope = Scope::auth_stack)
        : dir_(dir), stack_(stack), included_(included), scope_(scope) {}

    // Adds the lines of one file it keeps (the auth lines, for a stack); false when it
    // cannot be read (libpam: PAM_ABORT).
    bool add_file(const std::string& name, int level, const std::vector<Source>& via, int depth) {
        if (level >= kMaxLevel) {
            stack_.problems.push_back("substacks nested deeper than libpam allows at " + name);
            stack_.incomplete = true;
            return false;
        }
        const std::string path = dir_.find(name);
        std::ifstream in(path);
        if (path.empty() || !in) {
            stack_.problems.push_back("cannot read " + (path.empty() ? name : path));
            stack_.incomplete = true;
            return false;
        }
        if (std::find(chain_.begin(), chain_.end(), path) != chain_.end()) {
            stack_.problems.push_back("include loop at " + name +
                                      ": libpam 1.5 crashes, later versions fail the line");
            stack_.uncertain = true;
            stack_.incomplete = true;
            return false;
        }
        if (depth == kMaxIncludeDepth) {
            stack_.problems.push_back("includes nested deeper than " +
                                      std::to_string(kMaxIncludeDepth) + " at " + name +
                                      ": libpam 1.5 follows them (as checked here), later "
                                      "versions fail the line");
            stack_.uncertain = true;
        }
        chain_.push_back(path);
        const bool read = add_lines(in, path, level, via, depth);
        chain_.pop_back();
        return read;
    }

  private:
    bool add_lines(std::istream& in, const std::string& path, int level,
                   const std::vector<Source>& via, int depth) {
        const std::string shown =
            scope_ == Scope::auth_stack ? dir_.display_name(path) : dir_.without_root(path);
        const FileLines file = read_logical_lines(in);
        for (const auto& [number, length] : file.long_lines)
            stack_.long_lines.push_back({Source{shown, number}, length});
        // Listing the module's lines for a removal, a file libpam may read differently
        // from this model (a line it reads in pieces, which an editor shows as one; a NUL
        // byte, where libpam's C strings end a line) is doubt, not knowledge.
        if (scope_ != Scope::auth_stack && (file.has_nul || !file.long_lines.empty())) {
            stack_.problems.push_back(shown + (file.has_nul ? " holds a NUL byte"
                                                            : " has a line of 1023 bytes or "
                                                              "more, which libpam reads in "
                                                              "pieces"));
            stack_.incomplete = true;
        }
        for (const LogicalLine& line : file.lines) {
            std::vector<std::string> tokens = tokenize(line.text);
            // pam.conf's lines start with the service; the files it includes have none.
            if (scope_ == Scope::pam_conf_lines && depth == 0 && !tokens.empty())
                tokens.erase(tokens.begin());
            if (!add_line(tokens, Source{shown, line.number}, level, via, depth)) return false;
        }
        if (file.broken) {
            stack_.problems.push_back("libpam stops reading " + shown +
                                      " (a line longer than its buffer, or a backslash on the "
                                      "last line)");
            stack_.incomplete = true;
            return false;
        }
        return true;
    }

    // False when libpam stops reading the file here (an @include it cannot read).
    bool add_line(const std::vector<std::string>& tokens, const Source& source, int level,
                  const std::vector<Source>& via, int depth) {
        Handler handler;
        handler.level = level;
        handler.source = source;
        handler.via = via;
        if (tokens.empty()) {  // libpam: "empty module type", a line that always fails
            stack_.problems.push_back(where(source) + ": empty module type");
            handler.kind = HandlerKind::must_fail;
            handler.actions.fill(kBad);
            stack_.handlers.push_back(std::move(handler));
            return true;
        }
        if (same_word(tokens[0], "@include"))  // Debian: every line of the file, at this level
            return debian_include(tokens.size() > 1 ? tokens[1] : "", source, level, via, depth);
        std::string type = tokens[0];
        if (type[0] == '-') type.erase(0, 1);
        const bool known_type = same_word(type, "auth") || same_word(type, "account") ||
                                same_word(type, "session") || same_word(type, "password");
        if (known_type && !same_word(type, "auth") && scope_ == Scope::auth_stack) return true;
        if (!known_type) {
            stack_.problems.push_back(where(source) + ": unknown module type " + tokens[0]);
            handler.kind = HandlerKind::must_fail;
        }
        if (tokens.size() < 2) {
            stack_.problems.push_back(where(source) + ": no control field");
            handler.kind = HandlerKind::must_fail;
            handler.actions.fill(kBad);
            stack_.handlers.push_back(std::move(handler));
            return true;
        }
        handler.control = tokens[1];
        const bool substack = same_word(tokens[1], "substack");
        if (same_word(tokens[1], "include") || substack) {
            include(tokens.size() > 2 ? tokens[2] : "", substack, source, level, via, depth);
            return true;
        }
        parse_control(tokens[1], handler.actions);
        if (tokens[1].find('=') != std::string::npos) handler.control = "[" + tokens[1] + "]";
        if (tokens.size() < 3) {
            stack_.problems.push_back(where(source) + ": no module name");
            handler.kind = HandlerKind::must_fail;
        } else {
            handler.module = module_name(tokens[2]);
            handler.module_path = tokens[2];
            handler.args.assign(tokens.begin() + 3, tokens.end());
            if (!dir_.module_exists(tokens[2])) handler.kind = HandlerKind::unloadable;
        }
        stack_.handlers.push_back(std::move(handler));
        return true;
    }

    // Debian's @include: the file's lines at this level. Debian's libpam gives up on the
    // file holding an @include it cannot read; inside an included file what it does then
    // depends on the lines before, so the stack is marked as not fully known.
    bool debian_include(const std::string& name, const Source& source, int level,
                        std::vector<Source> via, int depth) {
        if (included_ != nullptr && !name.empty()) included_->push_back(name);
        via.push_back(source);
        if (!name.empty() && add_file(name, level, via, depth + 1)) return true;
        stack_.incomplete = true;
        stack_.problems.push_back(where(source) + ": libpam cannot include " +
                                  (name.empty() ? "(no file named)" : name));
        if (in_include_ > 0) {
            stack_.problems.push_back(where(source) +
                                      ": what libpam does after a failed @include inside an "
                                      "included file depends on the lines before it");
            stack_.uncertain = true;
        }
        return false;
    }

    void include(const std::string& name, bool substack, const Source& source, int level,
                 std::vector<Source> via, int depth) {
        if (included_ != nullptr && !name.empty()) included_->push_back(name);
        if (substack) {
            Handler marker;
            marker.kind = HandlerKind::substack;
            marker.level = level;
            marker.source = source;
            marker.via = via;
            marker.control = "substack";
            marker.module = name;
            stack_.handlers.push_back(std::move(marker));
        }
        via.push_back(source);
        ++in_include_;
        const bool read =
            !name.empty() && add_file(name, level + (substack ? 1 : 0), via, depth + 1);
        --in_include_;
        if (read) return;
        stack_.incomplete = true;
        Handler failing;
        failing.kind = HandlerKind::must_fail;
        failing.level = level;
        failing.actions.fill(kBad);
        failing.source = source;
        failing.via = std::vector<Source>(via.begin(), via.end() - 1);
        failing.control = substack ? "substack" : "include";
        failing.module = name;
        stack_.handlers.push_back(std::move(failing));
    }

    static std::string where(const Source& source) {
        return source.file + ":" + std::to_string(source.line);
    }

    const PamConfigDir& dir_;
    Stack& stack_;
    std::vector<std::string>* included_;
    Scope scope_;
    int in_include_ = 0;              // include and substack lines being followed
    std::vector<std::string> chain_;  // the files being read, outermost first
};

}  // namespace

PamConfigDir::PamConfigDir(std::string root) : root_(std::move(root)) {
    while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
    if (root_ == "/") root_.clear();
    etc_dir_ = root_ + "/etc/pam.d";
    vendor_dir_ = root_ + "/usr/lib/pam.d";
    module_dir_ = find_module_dir(root_);
}

bool PamConfigDir::module_exists(const std::string& path) const {
    if (path.empty()) return false;
    if (path[0] == '/') return is_file(root_ + path);
    return module_dir_.empty() || is_file(root_ + module_dir_ + "/" + path);
}

bool PamConfigDir::is_module_dir_file(const std::string& path, const std::string& file_name) const {
    if (path == file_name) return true;
    if (module_dir_.empty() || path.empty() || path[0] != '/') return false;
    std::error_code error;
    return std::filesystem::equivalent(root_ + path, root_ + module_dir_ + "/" + file_name, error);
}

std::string PamConfigDir::find(const std::string& name) const {
    if (name.empty()) return "";
    if (name[0] == '/') return is_file(root_ + name) ? root_ + name : "";
    for (const std::string& dir : {etc_dir_, vendor_dir_}) {
        if (is_file(dir + "/" + name)) return dir + "/" + name;
    }
    return "";
}

std::string PamConfigDir::display_name(const std::string& path) const {
    for (const std::string& dir : {etc_dir_, vendor_dir_}) {
        if (path.starts_with(dir + "/")) return path.substr(dir.size() + 1);
    }
    return root_.empty() || !path.starts_with(root_) ? path : path.substr(root_.size());
}

std::string PamConfigDir::without_root(const std::string& path) const {
    return root_.empty() || !path.starts_with(root_ + "/") ? path : path.substr(root_.size());
}

Stack load_file_auth_stack(const PamConfigDir& dir, const std::string& service,
                           std::vector<std::string>* included) {
    Stack stack;
    StackBuilder(dir, stack, included).add_file(service, 0, {}, 0);
    return stack;
}

Stack load_module_lines(const PamConfigDir& dir, const std::string& name, bool pam_conf) {
    Stack stack;
    StackBuilder(dir, stack, nullptr, pam_conf ? Scope::pam_conf_lines : Scope::module_lines)
        .add_file(name, 0, {}, 0);
    return stack;
}

// libpam reads the service's file and then "other" (whose lines it uses only for a service
// without lines of their own); a file it cannot read to the end fails the whole service.
Stack load_auth_stack(const PamConfigDir& dir, const std::string& service) {
    Stack stack;
    Stack other;
    const bool service_read =
        dir.find(service).empty() || StackBuilder(dir, stack, nullptr).add_file(service, 0, {}, 0);
    const bool other_read = service == "other" || dir.find("other").empty() ||
                            StackBuilder(dir, other, nullptr).add_file("other", 0, {}, 0);
    if (stack.handlers.empty()) {
        other.uses_other = true;
        other.problems.insert(other.problems.begin(), stack.problems.begin(), stack.problems.end());
        other.long_lines.insert(other.long_lines.begin(), stack.long_lines.begin(),
                                stack.long_lines.end());
        std::swap(stack, other);
    } else {
        stack.problems.insert(stack.problems.end(), other.problems.begin(), other.problems.end());
        stack.long_lines.insert(stack.long_lines.end(), other.long_lines.begin(),
                                other.long_lines.end());
    }
    stack.aborted = !service_read || !other_read;
    return stack;
}

bool parse_control(const std::string& control, Actions& actions) {
    actions.fill(kBad);
    actions[PAM_SUCCESS] = kOk;
    actions[PAM_NEW_AUTHTOK_REQD] = kOk;
    if (same_word(control, "required")) {
        actions[PAM_IGNORE] = kIgnore;
    } else if (same_word(control, "requisite")) {
        actions.fill(kDie);
        actions[PAM_SUCCESS] = kOk;
        actions[PAM_NEW_AUTHTOK_REQD] = kOk;
        actions[PAM_IGNORE] = kIgnore;
    } else if (same_word(control, "optional")) {
        actions.fill(kIgnore);
        actions[PAM_SUCCESS] = kOk;
        actions[PAM_NEW_AUTHTOK_REQD] = kOk;
    } else if (same_word(control, "sufficient")) {
        actions.fill(kIgnore);
        actions[PAM_SUCCESS] = kDone;
        actions[PAM_NEW_AUTHTOK_REQD] = kDone;
    } else if (same_word(control, "include") || same_word(control, "substack")) {
        return false;
    } else {
        actions.fill(kBad);
        parse_bracket_control(control, actions);
    }
    return true;
}

std::string code_name(int code) {
    if (code < 0 || code >= _PAM_RETURN_VALUES) return "PAM_" + std::to_string(code);
    std::string name = kReturnNames[code];
    for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return "PAM_" + name;
}

std::string action_name(int action) {
    if (action > 0) return "jump " + std::to_string(action);
    if (action < 0 && action >= kReset) return kActionNames[-action];
    return action == 0 ? "ignore" : "?";
}

}  // namespace totp_check
