// SPDX-License-Identifier: Apache-2.0
#include "enroll.hpp"

#include <unistd.h>

#include <climits>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "errors.hpp"
#include "qr_image.hpp"
#include "recovery_set.hpp"
#include "terminal.hpp"
#include "terminal_qr.hpp"
#include "totp/base32.hpp"
#include "totp/hex.hpp"
#include "totp/otp.hpp"
#include "totp/otpauth_uri.hpp"
#include "totp/translation.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {
namespace {

constexpr int kConfirmWindow = 1;
constexpr const char* kCodePrompt = N_("Enter the code from your app: ");
constexpr const char* kTokenPrompt = N_("Enter a code from the token: ");

struct NewKey {
    totp::OtpParams params;
    totp::SecretBytes secret;
    std::string issuer;
    std::string label;
};

// RFC 4226 asks for at least the hash's output length: 20 bytes for SHA1, 32, 64.
std::size_t secret_size(totp::Algorithm algorithm) {
    switch (algorithm) {
        case totp::Algorithm::sha1:
            return 20;
        case totp::Algorithm::sha256:
            return 32;
        case totp::Algorithm::sha512:
            return 64;
    }
    return 64;
}

std::string host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "";
    return name;
}

totp::Result<totp::SecretBytes> secret_from(const CommandLine& command, totp::Algorithm algorithm) {
    if (!command.secret) {
        totp::SecretBytes secret(secret_size(algorithm));
        if (!totp::random_bytes(secret.data(), secret.size())) {
            return totp::make_error(totp::Errc::io, "the random number generator failed");
        }
        return secret;
    }
    totp::Result<totp::SecretBytes> decoded = totp::base32_decode(command.secret->view());
    if (!decoded) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "bad base32 secret: " + decoded.error().message);
    }
    if (decoded->size() < totp::kMinSecretBytes || decoded->size() > totp::kMaxSecretBytes) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "the secret is " + std::to_string(decoded->size()) +
                                    " bytes; it must be " + std::to_string(totp::kMinSecretBytes) +
                                    "-" + std::to_string(totp::kMaxSecretBytes) + " bytes");
    }
    return std::move(*decoded);
}

// Parameters from the config file, overridden by options.
totp::Result<NewKey> make_key(const Session& session, const CommandLine& command,
                              const Account& target) {
    NewKey key;
    key.params = session.settings().params;
    if (command.algorithm) key.params.algorithm = *command.algorithm;
    if (command.digits) key.params.digits = *command.digits;
    if (command.period) key.params.period = *command.period;
    if (totp::Status valid = totp::validate(key.params); !valid) {
        return valid.error();  // a bad --algorithm, --digits or --period: a usage error
    }
    totp::Result<totp::SecretBytes> secret = secret_from(command, key.params.algorithm);
    if (!secret) return secret.error();
    key.secret = std::move(*secret);
    key.issuer = command.issuer.value_or(
        session.settings().issuer.empty() ? host_name() : session.settings().issuer);
    key.label = command.label.value_or(target.name);
    return key;
}

totp::SecretString grouped(const totp::SecretString& base32) {
    totp::SecretString out;
    for (std::size_t i = 0; i < base32.size(); ++i) {
        if (i > 0 && i % 4 == 0) out.append(" ");
        out.append(base32.view().substr(i, 1));
    }
    return out;
}

// The QR code (if it fits), then the URI and the secret for typing by hand.
void show_key(const NewKey& key, const totp::SecretString& uri, std::optional<QrStyle> style) {
    if (style) {
        const std::optional<int> needed = qr_width(uri.view(), *style);
        const std::optional<int> columns = terminal_columns();
        if (needed && columns && *needed > *columns) {
            std::fflush(stdout);
            std::fprintf(stderr, "%s\n",
                         totp::translate_count("Terminal too narrow for the QR code (needs %d "
                                               "column); add the key by hand:",
                                               "Terminal too narrow for the QR code (needs %d "
                                               "columns); add the key by hand:",
                                               static_cast<unsigned long>(*needed))
                             .c_str());
        } else if (std::optional<std::string> qr = render_qr(uri.view(), *style)) {
            say(totp::translate("Scan this QR code with your authenticator app:"));
            std::fputs(qr->c_str(), stdout);
            totp::wipe(*qr);  // the drawing encodes the secret too
        }
    }
    say(uri.view());
    totp::SecretString line(totp::translate("Secret: "));
    line.append(grouped(totp::base32_encode(key.secret.span())).view());
    say(line.view());
}

// Image files written for this enrollment; removed again unless it is activated, since
// they would show a key that never worked.
class ImageFiles {
  public:
    ImageFiles() = default;
    ImageFiles(const ImageFiles&) = delete;
    ImageFiles& operator=(const ImageFiles&) = delete;
    ~ImageFiles() {
        for (const std::string& path : paths_) ::unlink(path.c_str());
    }

    totp::Status write(const CommandLine& command, const totp::SecretString& uri) {
        if (command.qr_png) {
            if (totp::Status written = write_qr_png(*command.qr_png, uri.view()); !written) {
                return written;
            }
            paths_.push_back(*command.qr_png);
        }
        if (command.qr_svg) {
            if (totp::Status written = write_qr_svg(*command.qr_svg, uri.view()); !written) {
                return written;
            }
            paths_.push_back(*command.qr_svg);
        }
        return {};
    }
    void keep() { paths_.clear(); }

  private:
    std::vector<std::string> paths_;
};

totp::SecretString without_spaces(std::string_view typed) {
    totp::SecretString out;
    for (std::size_t i = 0; i < typed.size(); ++i) {
        if (typed[i] != ' ' && typed[i] != '\t') out.append(typed.substr(i, 1));
    }
    return out;
}

// Asks with `prompt` until a code (spaces typed in it dropped) passes `check`, which says
// what it confirms: the TOTP step or the HOTP counter it matched.
totp::Result<std::uint64_t> confirm(const char* prompt, const CodeAccept& check) {
    return ask_for_code(
        prompt, [&](std::string_view typed) { return check(without_spaces(typed).view()); },
        "the code was not confirmed after " + std::to_string(kCodeTries) +
            " tries; nothing was changed");
}

// The time step of the first correct code from the app.
totp::Result<std::uint64_t> confirm_totp(const NewKey& key, const Session& session) {
    return confirm(kCodePrompt, [&](std::string_view code) -> std::optional<std::uint64_t> {
        const totp::TotpCheck check = totp::check_totp(key.secret, key.params, code, session.now(),
                                                       kConfirmWindow, std::nullopt);
        if (check.outcome != totp::TotpCheck::Outcome::accepted) return std::nullopt;
        return check.step;
    });
}

// The counter after the first correct code from the token; the token may be ahead by up to
// hotp_window presses.
totp::Result<std::uint64_t> confirm_hotp(const NewKey& key, std::uint64_t counter,
                                         const Session& session) {
    const auto ahead = static_cast<std::uint64_t>(session.settings().hotp_window);
    return confirm(kTokenPrompt, [&](std::string_view code) -> std::optional<std::uint64_t> {
        const totp::TotpCheck check =
            totp::check_counters(key.secret, key.params.algorithm, key.params.digits, code, counter,
                                 counter + ahead, std::nullopt);
        if (check.outcome != totp::TotpCheck::Outcome::accepted) return std::nullopt;
        return check.step + 1;
    });
}

// Checks before anything is shown that the store can be opened (so a broken store fails
// now rather than after the scan), whether the target is enrolled already, and that the new
// key, as the authenticator named "default", stays within max_authenticators (the rule
// applied again when it is saved). The record is closed again: nothing may hold its lock
// while the caller is prompted.
totp::Result<bool> probe_existing_enrollment(Session& session, const std::string& user) {
    totp::Result<OpenRecord> open = session.open_record(user);
    if (!open) return open.error();
    if (!open->state()) return false;
    totp::UserState replacement;
    replacement.authenticators.emplace_back().name = totp::kDefaultAuthenticatorName;
    if (totp::Status room = session.replace_authenticators(user, replacement, *open->state());
        !room) {
        return room.error();
    }
    return true;
}

// The new key becomes the authenticator named "default"; a user's other authenticators
// (a spare phone, a hardware token) are kept, see Session::save_keeping_email.
totp::Status activate(Session& session, const std::string& user, const NewKey& key,
                      std::optional<std::uint64_t> confirmed_step, const RecoverySet& recovery) {
    totp::Authenticator token;
    token.name = std::string(totp::kDefaultAuthenticatorName);
    token.params = key.params;
    token.secret = key.secret.clone();
    token.last_step = confirmed_step;  // the confirmation code cannot be used again
    totp::UserState state;
    state.authenticators.push_back(std::move(token));
    state.recovery = recovery.hashes;
    state.created = session.now();
    return session.save_keeping_email(user, state);
}

// A hardware token has no QR scanner: its secret is programmed in, as base32 or hex.
void show_token_secret(const NewKey& key, std::uint64_t counter) {
    totp::SecretString line(totp::translate("Secret (base32): "));
    line.append(grouped(totp::base32_encode(key.secret.span())).view());
    say(line.view());
    totp::SecretString hex(totp::translate("Secret (hex): "));
    hex.append(totp::hex_encode_secret(key.secret.span()).view());
    say(hex.view());
    say(totp::translate_filled("Next counter: %s", std::to_string(counter)));
}

// Whether the new key can still be added to the user's record under `name` (checked before
// anything is shown, and again under the lock when saving).
totp::Status check_room_to_add(Session& session, const std::string& user, const std::string& name,
                               const NewKey& key) {
    totp::Result<OpenRecord> open = session.open_enrolled(user);
    if (!open) return open.error();
    totp::UserState state = open->state()->clone();
    totp::Authenticator probe;
    probe.name = name;
    probe.params = key.params;
    probe.secret = key.secret.clone();
    return totp::add_authenticator(state, std::move(probe),
                                   static_cast<std::size_t>(session.settings().max_authenticators));
}

// Shows the new key and has it confirmed: the authenticator's replay state as confirmed.
totp::Result<totp::Authenticator> show_and_confirm(Session& session, const CommandLine& command,
                                                   const NewKey& key, ImageFiles& images) {
    totp::Authenticator token;
    token.name = *command.name;
    token.type = command.type.value_or(totp::OtpType::totp);
    token.params = key.params;
    token.secret = key.secret.clone();
    if (token.type == totp::OtpType::hotp) {
        token.counter = command.counter.value_or(0);
        show_token_secret(key, token.counter);
        if (command.no_confirm) return token;
        totp::Result<std::uint64_t> next = confirm_hotp(key, token.counter, session);
        if (!next) return next.error();
        token.counter = *next;
        return token;
    }
    const totp::SecretString uri = totp::build_key_uri(
        {.issuer = key.issuer, .account = key.label, .params = key.params}, key.secret);
    show_key(key, uri, command.qr);
    if (totp::Status written = images.write(command, uri); !written) return written.error();
    if (command.no_confirm) return token;
    totp::Result<std::uint64_t> step = confirm_totp(key, session);
    if (!step) return step.error();
    token.last_step = *step;
    return token;
}

}  // namespace

totp::Status add_named_authenticator(Session& session, const CommandLine& command) {
    totp::Result<Account> target = session.target(command.user);
    if (!target) return target.error();
    totp::Result<NewKey> key = make_key(session, command, *target);
    if (!key) return key.error();
    if (totp::Status room = check_room_to_add(session, target->name, *command.name, *key); !room) {
        return room;
    }
    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated;
    }
    ImageFiles images;
    totp::Result<totp::Authenticator> token = show_and_confirm(session, command, *key, images);
    if (!token) return token.error();
    {
        totp::Result<OpenRecord> open = session.open_enrolled(target->name);
        if (!open) return open.error();
        totp::UserState state = open->state()->clone();
        const auto max = static_cast<std::size_t>(session.settings().max_authenticators);
        if (totp::Status added = totp::add_authenticator(state, std::move(*token), max); !added) {
            return added;
        }
        if (totp::Status saved = open->record->save(state); !saved) {
            return runtime_failure(saved.error());
        }
    }
    session.audit(target->name + ": authenticator '" + *command.name + "' (" +
                  std::string(totp::type_name(command.type.value_or(totp::OtpType::totp))) +
                  ") added");
    session.privileges().drop_permanently();
    images.keep();
    say(totp::translate_filled("Authenticator '%s' added for %s.", *command.name, target->name));
    return {};
}

totp::Status enroll(Session& session, const CommandLine& command) {
    totp::Result<Account> target = session.target(command.user);
    if (!target) return target.error();
    totp::Result<NewKey> key = make_key(session, command, *target);
    if (!key) return key.error();
    totp::Result<bool> enrolled = probe_existing_enrollment(session, target->name);
    if (!enrolled) return enrolled.error();
    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated;
    }

    const totp::SecretString uri = totp::build_key_uri(
        {.issuer = key->issuer, .account = key->label, .params = key->params}, key->secret);
    show_key(*key, uri, command.qr);
    ImageFiles images;
    if (totp::Status written = images.write(command, uri); !written) return written;

    std::optional<std::uint64_t> confirmed_step;
    if (!command.no_confirm) {
        if (*enrolled)
            say(totp::translate(
                "The current enrollment keeps working until this one is confirmed."));
        totp::Result<std::uint64_t> step = confirm_totp(*key, session);
        if (!step) return step.error();
        confirmed_step = *step;
    }
    const int count = command.recovery_codes.value_or(session.settings().recovery_codes);
    totp::Result<RecoverySet> recovery = make_recovery_set(count);
    if (!recovery) return recovery.error();
    if (totp::Status active = activate(session, target->name, *key, confirmed_step, *recovery);
        !active) {
        return active;
    }
    session.audit(target->name + ": authenticator '" +
                  std::string(totp::kDefaultAuthenticatorName) + "' (totp) enrolled");
    session.privileges().drop_permanently();
    images.keep();
    say(totp::translate("Enrollment active."));
    print_recovery_codes(*recovery);
    return {};
}

}  // namespace totp_enroll
