// SPDX-License-Identifier: Apache-2.0
#include "import.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "errors.hpp"
#include "files.hpp"
#include "import_formats.hpp"
#include "import_plan.hpp"
#include "import_pskc.hpp"
#include "terminal.hpp"
#include "totp/hex.hpp"
#include "totp/otp.hpp"
#include "totp/recovery.hpp"
#include "totp/root_file.hpp"
#include "totp/text.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {
namespace {

std::string describe(const totp::Authenticator& token) {
    const std::string params = std::string(totp::algorithm_name(token.params.algorithm)) + ", " +
                               std::to_string(token.params.digits) + " digits";
    if (token.type == totp::OtpType::hotp) {
        return "HOTP, " + params + ", next counter " + std::to_string(token.counter);
    }
    return params + ", " + std::to_string(token.params.period) + " s" +
           (token.offset != 0 ? ", clock offset " + std::to_string(token.offset) + " steps" : "");
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

constexpr std::size_t kMaxMapFile = 1024 * 1024;

totp::Error invalid(std::string message) {
    return totp::make_error(totp::Errc::invalid_argument, std::move(message));
}

// A line of the map file, without its line end ("\n" or "\r\n").
std::string_view first_line(std::string_view text) {
    std::string_view line = text.substr(0, text.find('\n'));
    if (line.ends_with('\r')) line.remove_suffix(1);
    return line;
}

// A secret file named on the command line (totp::read_secret_file's rule for its value): one
// that is not private to root, or holds no text, is a bad option (exit 2); one that cannot be
// read is not found (exit 4), as an import file is.
totp::Result<totp::SecretString> read_option_file(const std::string& option,
                                                  const std::string& path) {
    totp::Result<totp::SecretString> text = totp::read_secret_file(option, path);
    if (text) return text;
    const totp::Errc code =
        text.error().code == totp::Errc::io ? totp::Errc::not_found : totp::Errc::invalid_argument;
    return totp::make_error(code, text.error().message);
}

// --password-file and --key-file (hex AES key), read with the caller's rights like the
// container itself, and only when they are private to root.
totp::Result<PskcKey> read_pskc_key(const CommandLine& command) {
    PskcKey key;
    if (command.password_file) {
        totp::Result<totp::SecretString> password =
            read_option_file("--password-file", *command.password_file);
        if (!password) return password.error();
        if (password->empty()) return invalid(*command.password_file + ": the first line is empty");
        key.password = std::move(*password);
    }
    if (command.key_file) {
        totp::Result<totp::SecretString> text = read_option_file("--key-file", *command.key_file);
        if (!text) return text.error();
        std::optional<totp::SecretBytes> bytes =
            totp::hex_decode_secret(text->view(), totp::HexLetters::either_case);
        const bool aes_size =
            bytes && (bytes->size() == 16 || bytes->size() == 24 || bytes->size() == 32);
        if (!aes_size) {
            return invalid(*command.key_file +
                           ": not an AES key of 32, 48 or 64 hex digits on the first line");
        }
        key.preshared = std::move(*bytes);
    }
    return key;
}

using SerialMap = std::map<std::string, std::string>;  // PSKC serial -> user

totp::Status add_serial(SerialMap& serials, const std::string& serial, const std::string& user,
                        const std::string& where) {
    if (!serials.emplace(serial, user).second) {
        return invalid(where + ": serial " + totp::printable(serial) + " is mapped twice");
    }
    return {};
}

// --map SERIAL=USER options and the serial,user lines of --map-file.
totp::Result<SerialMap> read_serial_map(const CommandLine& command) {
    SerialMap serials;
    for (const auto& [serial, user] : command.serial_map) {
        if (totp::Status added = add_serial(serials, serial, user, "--map"); !added) {
            return added.error();
        }
    }
    if (!command.map_file) return serials;
    const std::string& path = *command.map_file;
    totp::Result<totp::SecretString> text = read_import_file(path, kMaxMapFile);
    if (!text) return text.error();
    std::string_view rest = text->view();
    for (std::size_t number = 1; !rest.empty(); ++number) {
        const std::string_view line = first_line(rest);
        rest.remove_prefix(std::min(rest.size(), rest.find('\n') + 1));
        if (line.empty() || line.starts_with('#')) continue;
        const std::size_t comma = line.find(',');
        const std::string where = path + ", line " + std::to_string(number);
        if (comma == 0 || comma == std::string_view::npos || comma + 1 == line.size() ||
            line.find(',', comma + 1) != std::string_view::npos || totp::has_control(line)) {
            return invalid(where + ": expected SERIAL,USER");
        }
        if (totp::Status added = add_serial(serials, std::string(line.substr(0, comma)),
                                            std::string(line.substr(comma + 1)), where);
            !added) {
            return added.error();
        }
    }
    if (serials.empty()) return invalid(path + ": no SERIAL,USER line");
    return serials;
}

// Gives each token the user its serial is mapped to. A mapping naming a serial the file
// lacks or holds more than once (which key would the user get?), or an unknown user, is
// refused before anything is written.
totp::Status assign_users(const SerialMap& serials, std::vector<ImportedToken>& tokens,
                          const std::string& path) {
    for (const auto& [serial, user] : serials) {
        const auto in_file = [&label = serial](const ImportedToken& t) { return t.label == label; };
        const auto count = std::count_if(tokens.begin(), tokens.end(), in_file);
        if (count == 0) return invalid("serial " + totp::printable(serial) + " is not in " + path);
        if (count > 1) {
            return invalid("serial " + totp::printable(serial) + " is in " + path + " " +
                           std::to_string(count) + " times");
        }
        if (totp::Result<Account> account = find_account(user); !account) return account.error();
    }
    for (ImportedToken& token : tokens) {
        const auto mapped = serials.find(token.label);
        if (mapped != serials.end()) {
            token.user = mapped->second;
        } else if (token.skipped.empty()) {
            token.skipped = "serial " + totp::printable(token.label) + " is not mapped to a user";
        }
    }
    return {};
}

// Counts and reports what happens to each token of an import, one line per token or, for
// what happens to a user's record as a whole, one line per user.
class ImportReport {
  public:
    void refuse(const std::string& user, const std::string& origins, const std::string& why,
                std::size_t tokens = 1) {
        not_imported_ += tokens;
        say(who(user) + ": not imported (" + origins + "): " + why);
    }
    void fail(const std::string& user, const totp::Error& error, std::size_t tokens) {
        failed_ += tokens;
        ++failed_users_;
        say(who(user) + ": failed, nothing written for this user: " + error.message);
    }
    void imported(const std::string& user, const ImportDecision& decision,
                  const totp::Authenticator& token) {
        ++imported_;
        say(who(user) + ": imported (" + decision.token->origin + ") as '" + decision.name + "': " +
            describe(token) + (decision.token->has_pin ? "; its PIN is not used by pam_totp" : ""));
    }
    totp::Status finish() const {
        say(std::to_string(imported_) + " imported, " + std::to_string(not_imported_) +
            " not imported" + (failed_ > 0 ? ", " + std::to_string(failed_) + " failed" : ""));
        if (failed_users_ == 0) return {};
        return totp::make_error(totp::Errc::io,
                                std::to_string(failed_users_) + " user(s) could not be written");
    }

  private:
    static std::string who(const std::string& user) {
        return user.empty() ? std::string("-") : totp::printable(user);
    }
    std::size_t imported_ = 0;
    std::size_t not_imported_ = 0;
    std::size_t failed_ = 0;
    std::size_t failed_users_ = 0;
};

// Writes one user's record with every token decide_imports() lets through, in one save:
// all of them or, for an account that is missing or enrolled already or a failed write,
// none (one line for the user).
void store_user(Session& session, const UserImport& user, ImportReport& report) {
    std::vector<const ImportDecision*> stored;
    std::string origins;
    for (const ImportDecision& decision : user.decisions) {
        if (decision.name.empty()) {
            report.refuse(user.user, decision.token->origin, decision.not_imported);
            continue;
        }
        stored.push_back(&decision);
        origins += (origins.empty() ? "" : ", ") + decision.token->origin;
    }
    if (stored.empty()) return;
    const totp::Result<Account> account = find_account(user.user);
    if (!account) return report.refuse(user.user, origins, account.error().message, stored.size());
    totp::Result<OpenRecord> open = session.open_record(account->name);
    if (!open) return report.fail(user.user, open.error(), stored.size());
    if (open->state()) {
        return report.refuse(user.user, origins,
                             "already enrolled with pam_totp (remove that enrollment to import)",
                             stored.size());
    }
    if (totp::Status saved = open->record->save(user.state); !saved) {
        return report.fail(user.user, saved.error(), stored.size());
    }
    for (const ImportDecision* decision : stored) {
        report.imported(user.user, *decision,
                        *totp::find_authenticator(user.state, decision->name));
    }
}

// Stores what decide_imports() lets through, for accounts that exist and are not enrolled
// yet; the rest of the file goes on when one user fails.
totp::Status store_tokens(Session& session, const std::vector<ImportedToken>& tokens) {
    ImportReport report;
    const auto max = static_cast<std::size_t>(session.settings().max_authenticators);
    for (const UserImport& user : decide_imports(tokens, max, session.now())) {
        store_user(session, user, report);
    }
    return report.finish();
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
    std::vector<ImportedToken> tokens;
    tokens.push_back(google_authenticator_token(*file, target->name));
    const auto max = static_cast<std::size_t>(session.settings().max_authenticators);
    UserImport plan = std::move(decide_imports(tokens, max, session.now()).front());
    if (const std::string& why = plan.decisions.front().not_imported; !why.empty()) {
        return totp::make_error(totp::Errc::unsupported, path + ": not imported: " + why);
    }
    totp::Result<std::vector<totp::RecoveryHash>> recovery =
        hash_scratch_codes(file->scratch_codes);
    if (!recovery) return recovery.error();
    totp::UserState& state = plan.state;
    state.recovery = std::move(*recovery);

    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated;
    }
    if (totp::Status saved = session.save_keeping_email(target->name, state); !saved) return saved;
    session.privileges().drop_permanently();

    say("Imported " + path + " for " + target->name + ": " +
        describe(state.authenticators.front()) + ", " + std::to_string(state.recovery.size()) +
        " scratch codes kept as recovery codes.");
    explain_dropped_settings(*file);
    say("The authenticator app keeps working as it is; " + path +
        " can be deleted once a login with pam_totp has worked.");
    return {};
}

totp::Status import_oath(Session& session, const CommandLine& command) {
    const std::string& path = *command.file;
    totp::Result<totp::SecretString> text = read_import_file(path, kMaxOathUsersFile);
    if (!text) return text.error();
    return store_tokens(session, parse_oath_usersfile(text->view()));
}

totp::Status import_pskc(Session& session, const CommandLine& command) {
    const std::string& path = *command.file;
    totp::Result<PskcKey> key = read_pskc_key(command);
    if (!key) return key.error();
    totp::Result<SerialMap> serials = read_serial_map(command);
    if (!serials) return serials.error();
    totp::Result<totp::SecretString> text = read_import_file(path, kMaxPskcFile);
    if (!text) return text.error();
    totp::Result<std::vector<ImportedToken>> tokens = parse_pskc(text->view(), *key);
    if (!tokens) return bad_file(path, tokens.error());
    if (totp::Status mapped = assign_users(*serials, *tokens, path); !mapped) return mapped;
    return store_tokens(session, *tokens);
}

}  // namespace totp_enroll
