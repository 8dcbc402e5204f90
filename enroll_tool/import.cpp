// SPDX-License-Identifier: Apache-2.0
#include "import.hpp"

#include <set>
#include <string>

#include "errors.hpp"
#include "files.hpp"
#include "import_formats.hpp"
#include "terminal.hpp"
#include "totp/otp.hpp"
#include "totp/recovery.hpp"
#include "totp/text.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {
namespace {

std::string describe(const totp::OtpParams& params) {
    return std::string(totp::algorithm_name(params.algorithm)) + ", " +
           std::to_string(params.digits) + " digits, " + std::to_string(params.period) + " s";
}

totp::Error bad_file(const std::string& path, const totp::Error& error) {
    return totp::make_error(totp::Errc::invalid_argument, path + ": " + error.message);
}

totp::Result<std::vector<totp::RecoveryHash>> hash_scratch_codes(
    const std::vector<totp::SecretString>& codes) {
    std::vector<totp::RecoveryHash> hashes;
    for (const totp::SecretString& code : codes) {
        const std::optional<totp::SecretString> normalized =
            totp::normalize_recovery_code(code.view());
        if (!normalized) {
            return totp::make_error(totp::Errc::invalid_argument,
                                    "a scratch code has an unexpected form");
        }
        totp::Result<totp::RecoveryHash> hash = totp::hash_recovery_code(normalized->view());
        if (!hash) return runtime_failure(hash.error());
        hashes.push_back(*hash);
    }
    return hashes;
}

void explain_dropped_settings(const GoogleAuthenticatorFile& file) {
    if (file.window_size) {
        say("Note: WINDOW_SIZE " + std::to_string(*file.window_size) +
            " is ignored; the window is set by root (window= in pam_totp.conf).");
    }
    if (file.rate_limit) {
        say("Note: RATE_LIMIT is ignored; lockouts are set by root (max_failures=, "
            "lockout_seconds=).");
    }
    if (file.time_skew) say("Note: TIME_SKEW is ignored; keep the server's clock in sync.");
    if (file.disallow_reuse) {
        say("Note: DISALLOW_REUSE needs no setting: pam_totp always refuses reused codes.");
    }
}

}  // namespace

totp::Status import_google_authenticator(Session& session, const CommandLine& command) {
    totp::Result<Account> target = session.target(command.user);
    if (!target) return target.error();
    const std::string path = command.file.value_or(target->home + "/.google_authenticator");
    totp::Result<totp::SecretString> text = read_import_file(path, kMaxGoogleAuthenticatorFile);
    if (!text) return text.error();
    totp::Result<GoogleAuthenticatorFile> file = parse_google_authenticator(text->view());
    if (!file) return bad_file(path, file.error());
    totp::Result<std::vector<totp::RecoveryHash>> recovery =
        hash_scratch_codes(file->scratch_codes);
    if (!recovery) return recovery.error();

    totp::Authenticator token;
    token.name = std::string(totp::kDefaultAuthenticatorName);
    token.params = {totp::Algorithm::sha1, 6, file->step_size};
    token.secret = file->secret.clone();
    totp::UserState state;
    state.recovery = std::move(*recovery);
    state.created = session.now();
    // Codes google-authenticator already accepted stay used; a listed value that is not a
    // plausible past step is not carried over.
    const std::uint64_t now_step = totp::time_step(session.now(), file->step_size);
    if (file->last_used_step && *file->last_used_step <= now_step + 1) {
        token.last_step = file->last_used_step;
    }
    state.authenticators.push_back(std::move(token));

    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated;
    }
    if (totp::Status saved = session.save_keeping_email(target->name, state); !saved) return saved;
    session.privileges().drop_permanently();

    say("Imported " + path + " for " + target->name + ": " +
        describe(state.authenticators.front().params) + ", " +
        std::to_string(state.recovery.size()) + " scratch codes kept as recovery codes.");
    explain_dropped_settings(*file);
    say("The authenticator app keeps working as it is; " + path +
        " can be deleted once a login with pam_totp has worked.");
    return {};
}

totp::Status import_oath(Session& session, const CommandLine& command) {
    const std::string& path = *command.file;
    totp::Result<totp::SecretString> text = read_import_file(path, kMaxOathUsersFile);
    if (!text) return text.error();
    const std::vector<OathEntry> entries = parse_oath_usersfile(text->view());

    std::set<std::string> imported;
    std::size_t skipped = 0;
    std::size_t failed = 0;
    const auto skip = [&](const OathEntry& entry, const std::string& why) {
        ++skipped;
        const std::string who = entry.user.empty() ? "-" : totp::printable(entry.user);
        say(who + ": skipped (line " + std::to_string(entry.line) + "): " + why);
    };
    for (const OathEntry& entry : entries) {
        if (!entry.skipped.empty()) {
            skip(entry, entry.skipped);
            continue;
        }
        const totp::Result<Account> account = find_account(entry.user);
        if (!account) {
            skip(entry, account.error().message);
            continue;
        }
        if (imported.contains(account->name)) {
            skip(entry, "another line for this user was imported already");
            continue;
        }
        totp::Result<OpenRecord> open = session.open_record(account->name);
        if (!open) {
            ++failed;
            say(entry.user + ": failed: " + open.error().message);
            continue;
        }
        if (open->state()) {
            skip(entry, "already enrolled with pam_totp (remove that enrollment to import)");
            continue;
        }
        totp::Authenticator token;
        token.name = std::string(totp::kDefaultAuthenticatorName);
        token.params = entry.params;
        token.secret = entry.secret.clone();
        totp::UserState state;
        state.authenticators.push_back(std::move(token));
        state.created = session.now();
        if (totp::Status saved = open->record->save(state); !saved) {
            ++failed;
            say(entry.user + ": failed: " + saved.error().message);
            continue;
        }
        imported.insert(account->name);
        say(entry.user + ": imported (" + describe(entry.params) + ")" +
            (entry.has_pin ? "; its pam_oath PIN is not used by pam_totp" : ""));
    }
    say(std::to_string(imported.size()) + " imported, " + std::to_string(skipped) + " skipped" +
        (failed > 0 ? ", " + std::to_string(failed) + " failed" : ""));
    if (failed > 0) {
        return totp::make_error(totp::Errc::io,
                                std::to_string(failed) + " user(s) could not be written");
    }
    return {};
}

}  // namespace totp_enroll
