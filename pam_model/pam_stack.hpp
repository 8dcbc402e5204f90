// SPDX-License-Identifier: Apache-2.0
// Reading a service's auth stack the way Linux-PAM (libpam/pam_handlers.c) builds it: one
// flat list of handlers, `include` and Debian's `@include` inlined at the same level,
// `substack` one level deeper behind a marker, lines that cannot work kept as lines that
// always fail, and the "other" service when a service has no auth lines of its own.
#pragma once

#include <security/_pam_types.h>

#include <array>
#include <string>
#include <vector>

namespace totp_check {

// Linux-PAM's actions; a positive value is a jump over that many lines.
enum Action : int { kIgnore = 0, kOk = -1, kDone = -2, kBad = -3, kDie = -4, kReset = -5 };
using Actions = std::array<int, _PAM_RETURN_VALUES>;

// Where a line was written: the file as shown to the admin and its line number.
struct Source {
    std::string file;
    int line = 0;
};

enum class HandlerKind {
    module,      // calls a module
    substack,    // marks the start of a substack (the next handlers are one level deeper)
    must_fail,   // a line libpam cannot use: it always returns PAM_PERM_DENIED
    unloadable,  // a module libpam cannot load: it always returns PAM_MODULE_UNKNOWN
};

struct Handler {
    HandlerKind kind = HandlerKind::module;
    int level = 0;
    Actions actions{};
    Source source;
    std::string control;      // as written: "required", "[success=1 default=ignore]", ...
    std::string module;       // the module's name without directory and ".so": "pam_unix"
    std::string module_path;  // as written: "pam_unix.so", "/lib/security/pam_unix.so"
    std::vector<std::string> args;
    std::vector<Source> via;  // the include lines that brought this line in, outermost first
};

struct LongLine {
    Source source;
    std::size_t length = 0;
};

struct Stack {
    std::vector<Handler> handlers;
    bool uses_other = false;  // the service has no auth lines: "other" is used
    bool aborted = false;     // libpam cannot set the service up ("Initialization failure")
    bool uncertain = false;   // some line's effect is not known: the check is incomplete
    std::vector<std::string> problems;  // what libpam would log (missing include, bad line)
    std::vector<LongLine> long_lines;   // lines libpam reads in pieces, in every file read
    bool incomplete = false;            // a file read or included could not be read to its end
};

// Where the PAM configuration is read from: ROOT/etc/pam.d, then ROOT/usr/lib/pam.d.
class PamConfigDir {
  public:
    explicit PamConfigDir(std::string root);

    // The path of a service or included file (absolute names are taken under the root);
    // empty when there is none.
    std::string find(const std::string& name) const;
    // The name to show for a file: relative to the pam.d directory it is in.
    std::string display_name(const std::string& path) const;
    // A path found under the root as the host names it ("/etc/pam.d/sshd").
    std::string without_root(const std::string& path) const;
    const std::string& etc_dir() const { return etc_dir_; }
    const std::string& vendor_dir() const { return vendor_dir_; }

    // Whether libpam finds the module a line names: a relative name in the module
    // directory, an absolute one under the root. Without a module directory every module
    // counts as found (module_dir() tells).
    bool module_exists(const std::string& path) const;
    // The directory libpam loads modules from (relative names), without the root; empty
    // when the root has none of the usual ones.
    const std::string& module_dir() const { return module_dir_; }
    // Whether a line's module path loads the module directory's `file_name`: that name
    // alone, or a path to the same file.
    bool is_module_dir_file(const std::string& path, const std::string& file_name) const;

  private:
    std::string root_;
    std::string etc_dir_;
    std::string vendor_dir_;
    std::string module_dir_;
};

// The auth stack of `service` as libpam would run it.
Stack load_auth_stack(const PamConfigDir& dir, const std::string& service);

// The auth stack of one file alone (no fallback to "other"), and the files it includes.
Stack load_file_auth_stack(const PamConfigDir& dir, const std::string& service,
                           std::vector<std::string>* included);

// Every line naming a module, of any type (auth, account, session, password), in the file
// of `name` (a service, or an absolute path as the host names it) and in the files it
// includes, followed as libpam follows them, each shown by its path on the host.
// `pam_conf`: the file is in /etc/pam.conf's format, a service name before each line.
Stack load_module_lines(const PamConfigDir& dir, const std::string& name, bool pam_conf);

// "PAM_AUTH_ERR" for PAM_AUTH_ERR, and Linux-PAM's action names ("done", "jump 2").
std::string code_name(int code);
std::string action_name(int action);

// Parses a control field the way libpam does ("required", ..., or the text inside [...]).
// Returns false for include/substack, which are not actions.
bool parse_control(const std::string& control, Actions& actions);

}  // namespace totp_check
