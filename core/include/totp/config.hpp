// SPDX-License-Identifier: Apache-2.0
// Settings shared by the module and the tools: /etc/security/pam_totp.conf ([global])
// and module arguments. One function, apply_setting, serves both sources.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/otp.hpp"
#include "totp/result.hpp"
#include "totp/translation.hpp"

namespace totp {

inline constexpr const char* kDefaultConfigPath = "/etc/security/pam_totp.conf";

// What the rollout state file (rollout.hpp) says: nothing (no file), let users who have not
// enrolled in, or refuse them.
enum class Rollout { unset, rollout, enforce };

struct Settings {
    // Store
    std::string state_dir = "/var/lib/pam_totp";
    std::string secret_path;  // empty: default root-owned layout
    // Fleet store (store_pg/): "files" (the default) or "postgresql", the libpq connection
    // string, root-only files with the password and the AES-256-GCM key, the connect
    // timeout (1..60 s), and the break-glass users allowed the file store when the database
    // is unreachable (empty: everyone fails closed).
    std::string store = "files";
    std::string store_dsn;
    std::string store_password_file;
    std::string store_key_file = "/etc/security/pam_totp.key";
    int store_connect_timeout = 3;
    std::string store_fallback_users;
    // Verification policy
    int window = 1;             // steps accepted either side of now, 0..10
    int hotp_window = 10;       // HOTP counters accepted past the next unused one, 0..100
    int max_failures = 5;       // consecutive failures before a lockout, 1..1000
    int lockout_seconds = 300;  // 1..86400
    // Users who have not enrolled are ignored (PAM_IGNORE) instead of failed. `nullok` is the
    // value in effect: effective_nullok() of what the file or an argument set and of the
    // rollout file, kept up to date by apply_setting and load_config_file.
    bool nullok = false;
    std::optional<bool> nullok_setting;  // nullok as the file or a module argument set it
    Rollout rollout = Rollout::unset;    // what the rollout file next to the config says
    std::string require_group;           // enforce only for members
    std::string exempt_group;            // never enforce for members
    // Logins whose PAM_RHOST is a numeric address in one of these networks ("10.0.0.0/8
    // 2001:db8::/32") are not asked for a code. Only the config file sets it (never a
    // module argument): one root-owned place to audit who skips the second factor.
    std::string trusted_networks;
    // totp-verify (the helper of callers that are not root) checks codes for other users
    // only when the caller's account is a member; empty: a caller checks only its own.
    std::string verify_helper_group;
    // Conversation
    std::string prompt = N_("Verification code: ");  // the default is shown translated
    bool forward_pass = false;
    bool try_first_pass = false;
    bool use_first_pass = false;
    bool debug = false;
    // Enrollment defaults (totp-enroll)
    std::string issuer;  // empty: the host name
    OtpParams params;
    int recovery_codes = 10;
    int max_authenticators = 8;  // per user, 1..kMaxAuthenticators
};

struct ConfigProblem {
    std::string message;             // one line, for LOG_ERR / stderr
    bool security_relevant = false;  // the caller must fail closed
};

// Applies one key=value. Bare flags (nullok, debug, forward_pass, ...) given without a
// value mean true. An unknown key or a bad value adds a problem and keeps the default;
// the problem is security-relevant when the key affects who gets in.
void apply_setting(Settings& settings, std::string_view key, std::string_view value,
                   std::vector<ConfigProblem>& problems);

// Applies one module argument: a bare "key" (a flag, meaning yes) or "key=value". As in
// the file, an empty value of a yes/no key ("nullok=") is a security-relevant problem, not
// yes, and so is an unknown key and a key only the file may set (trusted_networks).
void apply_argument(Settings& settings, std::string_view argument,
                    std::vector<ConfigProblem>& problems);

// Reads the [global] section of an INI file into `settings`. The path must be absolute,
// not a symlink, a regular file owned by root, not writable by group or other and at most
// 64 KiB; it is opened once and parsed from that descriptor. A missing file at the default
// path is not an error (defaults apply); any other failure to read is a security-relevant
// problem, and so is, anywhere in the file, a key outside the one section it belongs to
// (section_key_names), an unknown section or key, a key set twice in a section and an
// empty value for a yes/no key. Problems name the line, never its text or value. [reset]
// values are left for the reset service. Then the rollout state file next to it
// (rollout_path(), read_rollout_file()) sets `settings.rollout`, missing or not the config.
void load_config_file(const std::string& path, bool missing_ok, Settings& settings,
                      std::vector<ConfigProblem>& problems);

// The line of the config file at `path` that sets [global] `key` (the one that counts when
// it is set twice), or 0 when none does or the file cannot be read as configuration.
int setting_line(const std::string& path, std::string_view key);

// Whether users who have not enrolled get in: not if either source says no (nullok = no, or
// the rollout file says enforce), else if either says yes (nullok = yes, or rollout), else
// not (the built-in default). The two sources can only combine towards enforcement.
bool effective_nullok(std::optional<bool> nullok_setting, Rollout rollout);

// Every key apply_setting accepts (for documentation checks).
std::vector<std::string_view> setting_names();

// The keys that belong in pam_totp.conf's [global] (setting_names()) or [reset] (those of
// mail.hpp and reset_settings.hpp); empty for any other section.
std::vector<std::string_view> section_key_names(std::string_view section);

}  // namespace totp
