// SPDX-License-Identifier: Apache-2.0
// Everything the service reads at start-up, checked before anything else happens.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "command_line.hpp"
#include "mail_texts.hpp"
#include "totp/config.hpp"
#include "totp/mail.hpp"
#include "totp/reset_settings.hpp"

namespace resetd {

struct Configuration {
    totp::Settings global;  // the store and the code policy, shared with pam_totp
    totp::MailSettings mail;
    totp::ResetSettings reset;
    MailTexts texts;
    std::string site_name;
    uid_t uid_min = 1000;
};

// Logs every problem; nullopt if any is security-relevant (the service must not start).
std::optional<Configuration> load_configuration(const Options& options);

}  // namespace resetd
