// SPDX-License-Identifier: Apache-2.0
#include "configuration.hpp"

#include <unistd.h>

#include <vector>

#include "accounts.hpp"
#include "log.hpp"
#include "totp/account.hpp"

namespace resetd {
namespace {

std::string host_name() {
    char name[256] = {};
    if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "this server";
    return name;
}

}  // namespace

std::optional<Configuration> load_configuration(const Options& options) {
    Configuration config;
    std::vector<totp::ConfigProblem> problems;
    totp::load_config_file(options.config_path, false, config.global, problems);
    totp::load_mail_settings(options.config_path, config.mail, problems);
    totp::load_reset_settings(options.config_path, config.reset, problems);
    if (!options.listen.empty()) {
        totp::apply_reset_setting(config.reset, "listen", options.listen, problems);
    }
    bool refuse = false;
    for (const totp::ConfigProblem& problem : problems) {
        if (problem.security_relevant) {
            log_error("%s", problem.message.c_str());
            refuse = true;
        } else {
            log_warning("%s", problem.message.c_str());
        }
    }
    totp::Result<MailTexts> texts = load_mail_texts(config.reset.template_dir);
    if (!texts) {
        log_error("mail templates: %s", texts.error().message.c_str());
        refuse = true;
    } else {
        config.texts = std::move(*texts);
    }
    if (refuse) return std::nullopt;
    config.site_name = config.reset.site_name.empty() ? host_name() : config.reset.site_name;
    config.uid_min = totp::read_uid_min();
    return config;
}

}  // namespace resetd
