// SPDX-License-Identifier: Apache-2.0
// pam_totp.conf and module arguments: whatever the file and the arguments say, loading
// never crashes, a bad value never replaces a default, and every problem is one
// printable log line. The file's [reset] section goes through the mail and reset-service
// loaders too.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_input.hpp"
#include "sandbox.hpp"
#include "totp/config.hpp"
#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"

namespace {

bool printable_line(std::string_view text) {
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) return false;
    }
    return true;
}

bool has_dotdot(std::string_view path) {
    return path == ".." || path.starts_with("../") || path.ends_with("/..") ||
           path.find("/../") != std::string_view::npos;
}

void check(const totp::Settings& s, const std::vector<totp::ConfigProblem>& problems) {
    for (const auto& problem : problems) {
        if (!printable_line(problem.message))
            fuzz::violated("problem message is not one printable line");
        if (problem.message.size() > 1024) fuzz::violated("problem message is too long");
    }
    if (s.window < 0 || s.window > 10) fuzz::violated("window out of range");
    if (s.max_failures < 1 || s.max_failures > 1000) fuzz::violated("max_failures out of range");
    if (s.lockout_seconds < 1 || s.lockout_seconds > 86400) fuzz::violated("lockout out of range");
    if (!s.state_dir.starts_with('/') || !printable_line(s.state_dir) || has_dotdot(s.state_dir))
        fuzz::violated("unsafe state_dir accepted");
    if (!s.secret_path.empty() &&
        ((!s.secret_path.starts_with('/') && !s.secret_path.starts_with("~/")) ||
         !printable_line(s.secret_path) || has_dotdot(s.secret_path)))
        fuzz::violated("unsafe secret_path accepted");
    if (s.prompt.empty() || s.prompt.size() > 128 || !printable_line(s.prompt))
        fuzz::violated("bad prompt accepted");
    if (!printable_line(s.require_group) || !printable_line(s.exempt_group))
        fuzz::violated("group name with control characters accepted");
    if (!totp::validate(s.params)) fuzz::violated("invalid OTP parameters accepted");
    if (s.recovery_codes < 0 || s.recovery_codes > 20)
        fuzz::violated("recovery_codes out of range");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input input(data, size);
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;

    // Module arguments first (as key=value or a bare word), then a config file.
    const int arguments = input.byte() % 8;
    for (int i = 0; i < arguments; ++i) {
        const std::string key = input.text(32);
        const std::string value = input.text(64);
        totp::apply_setting(settings, key, value, problems);
    }
    check(settings, problems);

    const std::string path = fuzz::sandbox_dir() + "/pam_totp.conf";
    fuzz::write_file(path, input.rest(), 0644);
    totp::Settings from_file;
    std::vector<totp::ConfigProblem> file_problems;
    totp::load_config_file(path, false, from_file, file_problems);
    check(from_file, file_problems);

    // The same file's [reset] section, as the mail code and the reset service read it.
    totp::MailSettings mail;
    std::vector<totp::ConfigProblem> mail_problems;
    totp::load_mail_settings(path, mail, mail_problems);
    totp::ResetSettings reset;
    std::vector<totp::ConfigProblem> reset_problems;
    totp::load_reset_settings(path, reset, reset_problems);
    for (const auto* list : {&mail_problems, &reset_problems}) {
        for (const auto& problem : *list) {
            if (!printable_line(problem.message))
                fuzz::violated("problem message is not one printable line");
        }
    }
    if (mail.retries < 0 || mail.retries > 5) fuzz::violated("smtp_retries out of range");
    return 0;
}
