// SPDX-License-Identifier: Apache-2.0
// Settings of the password-reset service (totp-resetd): the [reset] section of
// pam_totp.conf, except the SMTP keys, which load_mail_settings (mail.hpp) reads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/address_prefix.hpp"
#include "totp/config.hpp"

namespace totp {

struct ResetSettings {
    std::string base_url;  // required: links and pages are built from it, never from Host
    std::string listen = "127.0.0.1:8787";  // or unix:/path for a proxy on the same host
    std::string listen_group;  // group that may connect to a unix listen socket; empty: root
    std::string user = "totp-resetd";             // account of the unprivileged web process
    std::string chroot_dir = "/run/totp-resetd";  // empty directory the web process is confined to
    std::string site_name;                        // empty: the host name
    std::string client_ip_header;  // empty: the peer address; else e.g. X-Real-IP from the proxy
    std::string trusted_proxies;   // peers whose client_ip_header is believed (addresses, CIDRs,
                                   // "unix" for unix socket peers)
    int token_lifetime = 900;      // seconds a link stays valid
    int max_connections = 64;
    int connection_timeout = 30;  // seconds of silence before a connection is dropped
    int max_body = 4096;          // bytes of a form submission
    int requests_per_ip = 10;     // reset requests per client address per hour
    int mails_per_account = 3;    // reset mails per account per hour
    // Per client address per hour: bad links, wrong codes, refused passwords, locked codes.
    int failures_per_ip = 10;
    std::string reset_subject = "Reset your password on {site}";
    std::string changed_subject = "Your password on {site} was changed";
    std::string template_dir;  // empty: built-in mail texts
    // Members (primary or supplementary) of these groups cannot reset by mail; empty: none.
    std::string reset_exclude_groups = "sudo wheel adm root docker lxd incus-admin libvirt disk";
};

// Applies one [reset] key. The SMTP keys are accepted and left alone. An unknown key or a bad
// value adds a problem and keeps the default; bad values are security-relevant (the service
// must not start with a policy the admin did not write).
void apply_reset_setting(ResetSettings& settings, std::string_view key, std::string_view value,
                         std::vector<ConfigProblem>& problems);

// Reads [reset] with the checks of load_config_file, the file's layout included (a missing
// file is an error: base_url is required). Afterwards a missing base_url is a problem too.
void load_reset_settings(const std::string& path, ResetSettings& settings,
                         std::vector<ConfigProblem>& problems);

// The names in a space-separated list such as reset_exclude_groups.
std::vector<std::string> split_names(std::string_view list);

// Every key apply_reset_setting assigns (for documentation checks).
std::vector<std::string_view> reset_setting_names();

}  // namespace totp
