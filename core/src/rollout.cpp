// SPDX-License-Identifier: Apache-2.0
#include "totp/rollout.hpp"

#include <optional>

#include "config_file.hpp"
#include "totp/text.hpp"

namespace totp {
namespace {

bool is_blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

std::optional<Rollout> parse_mode(std::string_view line) {
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t' || line.back() == '\r'))
        line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line == "rollout") return Rollout::rollout;
    if (line == "enforce") return Rollout::enforce;
    return std::nullopt;
}

}  // namespace

std::string rollout_path(std::string_view config_path) {
    const std::size_t slash = config_path.rfind('/');
    const std::string_view dir =
        slash == std::string_view::npos ? std::string_view(".") : config_path.substr(0, slash);
    return std::string(dir) + "/" + kRolloutFileName;
}

std::string_view rollout_name(Rollout rollout) {
    switch (rollout) {
        case Rollout::rollout:
            return "rollout";
        case Rollout::enforce:
            return "enforce";
        case Rollout::unset:
            break;
    }
    return "not set";
}

Rollout read_rollout_file(const std::string& path, std::vector<ConfigProblem>& problems) {
    const std::string named = "rollout file " + printable(path, detail::kMaxEchoedPath);
    const auto refuse = [&](const std::string& reason) {
        detail::add_problem(problems, {named + ": " + reason, true});
        return Rollout::unset;
    };
    const Result<std::optional<std::string>> text =
        detail::read_trusted_file(path, /*missing_ok=*/true);
    if (!text) return refuse(text.error().message);
    if (!*text) return Rollout::unset;

    std::optional<Rollout> mode;
    std::string_view rest = **text;
    for (int number = 1; !rest.empty(); ++number) {
        const std::size_t end = std::min(rest.find('\n'), rest.size());
        const std::string_view line = rest.substr(0, end);
        rest.remove_prefix(std::min(end + 1, rest.size()));
        if (is_blank(line) || line.starts_with('#')) continue;
        // Like the config file's problems: the line's number, never its text.
        const auto refuse_line = [&](const std::string& reason) {
            detail::add_problem(problems,
                                {named + ", line " + std::to_string(number) + ": " + reason, true});
            return Rollout::unset;
        };
        const std::optional<Rollout> found = parse_mode(line);
        if (!found) return refuse_line("expected 'rollout' or 'enforce'");
        // Two modes: the admin may have meant either; neither is guessed.
        if (mode) return refuse_line("a second mode line (only one is allowed)");
        mode = found;
    }
    if (!mode) return refuse("no 'rollout' or 'enforce' line");
    return *mode;
}

std::string rollout_file_text(Rollout rollout) {
    const std::string_view meaning =
        rollout == Rollout::enforce
            ? "# enforce: users who have not enrolled are refused, whatever nullok says.\n"
              "# Undo with: totp-enroll rollout\n"
            : "# rollout: users who have not enrolled log in with their password alone, unless\n"
              "# pam_totp.conf or a module argument says nullok = no.\n"
              "# End it with: totp-enroll enforce\n";
    return "# Written by totp-enroll; see pam_totp.conf(5).\n" + std::string(meaning) +
           std::string(rollout_name(rollout)) + "\n";
}

}  // namespace totp
