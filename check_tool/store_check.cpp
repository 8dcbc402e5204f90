// SPDX-License-Identifier: Apache-2.0
#include "store_check.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

#include "totp/config.hpp"
#include "totp/store_factory.hpp"

namespace totp_check {
namespace {

Finding store_finding(const std::string& file, std::string message) {
    return {.service = "",
            .kind = kKindStore,
            .file = file,
            .line = 0,
            .message = std::move(message),
            .path = {}};
}

// `root` + `path`, refused when resolving it leaves the tree: a link in the tree may point
// anywhere on the host (an absolute link resolves against the host's /), and the file is
// read and sent to the database the tree's config names. A path that does not resolve is
// left to the open, which reports it. (The tree's owner could still swap a directory
// between this check and the open; totp-check runs on trees an administrator examines.)
totp::Result<std::string> path_in_tree(const std::string& root, const std::string& path) {
    const std::string joined = root + path;
    struct Free {
        void operator()(char* p) const { std::free(p); }
    };
    const std::unique_ptr<char, Free> real_root(::realpath(root.c_str(), nullptr));
    if (!real_root) {
        return totp::make_error(totp::Errc::io, root + ": " + std::strerror(errno));
    }
    const std::unique_ptr<char, Free> real(::realpath(joined.c_str(), nullptr));
    if (!real && errno == ENOENT) return joined;
    if (!real) return totp::make_error(totp::Errc::unsafe, joined + ": " + std::strerror(errno));
    const std::string inside = std::string(real_root.get()) + "/";
    if (!std::string_view(real.get()).starts_with(inside)) {
        return totp::make_error(totp::Errc::unsafe, joined + " leads out of the checked tree (to " +
                                                        real.get() + "), refusing");
    }
    return std::string(real.get());
}

}  // namespace

void check_store(const std::string& root, Report& report) {
    const std::string path = (root == "/" ? "" : root) + totp::kDefaultConfigPath;
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    totp::load_config_file(path, /*missing_ok=*/false, settings, problems);
    for (const totp::ConfigProblem& problem : problems) {
        report.note(problem.message);
        report.unreadable = true;
    }
    if (settings.store != "postgresql") {
        report.note("store = " + settings.store + ": no database to check");
        return;
    }
    // The tree's config names the database; the host's password must not go there.
    if (root != "/") {
        // Without a password of its own libpq looks in the host's files (~/.pgpass of the
        // root user running this, a pg_service.conf entry the DSN names) and would send
        // what it finds to the database the tree names.
        if (settings.store_password_file.empty()) {
            report.add(store_finding(path,
                                     "with --root the tree's own store_password_file is needed: "
                                     "without it libpq would take a password from this host's "
                                     "~/.pgpass or service file and send it to the tree's "
                                     "database; not connecting"));
            report.unreadable = true;
            return;
        }
        for (std::string* file : {&settings.store_key_file, &settings.store_password_file}) {
            if (file->empty()) continue;
            totp::Result<std::string> inside = path_in_tree(root, *file);
            if (!inside) {
                report.add(store_finding(path, inside.error().message));
                report.unreadable = true;
                return;
            }
            *file = *inside;
        }
    }
    const totp::Result<std::string> checked = totp::check_postgresql_store(settings);
    if (!checked) {
        report.add(store_finding(path, checked.error().message));
        report.unreadable = true;
        return;
    }
    std::string_view lines = *checked;
    while (!lines.empty()) {
        const std::size_t end = std::min(lines.find('\n'), lines.size());
        const std::string_view line = lines.substr(0, end);
        if (line.starts_with("finding: ")) {
            report.add(store_finding(path, std::string(line.substr(9))));
        } else if (line.starts_with("ok: ")) {
            report.note(std::string(line.substr(4)));
        }
        lines.remove_prefix(std::min(end + 1, lines.size()));
    }
}

totp::Result<std::string> configured_store(const std::string& root,
                                           const std::optional<std::string>& config) {
    const std::string path = config.value_or(totp::kDefaultConfigPath);
    // The module refuses a relative path; under the root it would look absolute.
    const std::string under_root = root != "/" && path.starts_with('/') ? root + path : path;
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    totp::load_config_file(under_root, /*missing_ok=*/!config, settings, problems);
    for (const totp::ConfigProblem& problem : problems) {
        if (problem.security_relevant) return totp::make_error(totp::Errc::unsafe, problem.message);
    }
    return settings.store;
}

}  // namespace totp_check
