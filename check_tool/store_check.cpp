// SPDX-License-Identifier: Apache-2.0
#include "store_check.hpp"

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
        settings.store_key_file = root + settings.store_key_file;
        if (!settings.store_password_file.empty())
            settings.store_password_file = root + settings.store_password_file;
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
