// SPDX-License-Identifier: Apache-2.0
#include "email.hpp"

#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "errors.hpp"
#include "terminal.hpp"
#include "totp/mail.hpp"
#include "totp/secret.hpp"
#include "totp/translation.hpp"

namespace totp_enroll {
namespace {

// Verification mails per account and day: enough to fix a typo or two, too few to make
// the host a mail cannon at any address (the caller chooses the address).
constexpr std::uint32_t kMailsPerDay = 5;
constexpr std::int64_t kDay = 24 * 60 * 60;
constexpr std::uint32_t kCodeRange = 1'000'000;  // six digits
constexpr const char* kCodePrompt = N_("Enter the code from the email: ");

// A uniformly random 6-digit code (rejection sampling keeps it unbiased).
totp::Result<totp::SecretString> make_code() {
    constexpr std::uint64_t kLimit =
        (std::uint64_t{1} << 32) - ((std::uint64_t{1} << 32) % kCodeRange);
    std::uint32_t value = 0;
    do {
        if (!totp::random_bytes(reinterpret_cast<std::uint8_t*>(&value), sizeof value)) {
            return totp::make_error(totp::Errc::io, "the random number generator failed");
        }
    } while (value >= kLimit);
    char text[8];
    std::snprintf(text, sizeof text, "%06u", static_cast<unsigned>(value % kCodeRange));
    totp::SecretString code(text);
    totp::wipe(text, sizeof text);
    totp::wipe(&value, sizeof value);
    return code;
}

std::string host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (::gethostname(name, sizeof name - 1) != 0) return "this server";
    return name;
}

totp::Result<totp::MailSettings> mail_settings(Session& session) {
    totp::MailSettings settings;
    std::vector<totp::ConfigProblem> problems;
    {
        const Privileges::Elevation elevated = session.privileges().elevate();
        totp::load_mail_settings(session.config_path(), settings, problems);
    }
    for (const totp::ConfigProblem& problem : problems) {
        if (problem.security_relevant) return totp::make_error(totp::Errc::io, problem.message);
        std::fprintf(stderr, "totp-enroll: warning: %s\n", problem.message.c_str());
    }
    return settings;
}

totp::Status send_code(Session& session, const totp::MailSettings& settings,
                       const std::string& user, const std::string& address,
                       const totp::SecretString& code) {
    totp::MailMessage message;
    message.to = address;
    message.subject = "Your verification code for " + host_name();
    message.text_body = "Your verification code is " + std::string(code.view()) +
                        "\n\nType it into totp-enroll to confirm this address for password resets "
                        "of the account " +
                        user + " on " + host_name() +
                        ".\nIf you did not ask for this, you can ignore this message.\n";
    totp::Status sent;
    {
        // The SMTP password file is root's; the elevation is only needed when there is one.
        const Privileges::Elevation elevated = settings.smtp_password_file.empty()
                                                   ? Privileges::Elevation()
                                                   : session.privileges().elevate();
        if (totp::Status status = totp::send_mail(settings, message, session.now()); !status) {
            sent = totp::make_error(totp::Errc::io, "mail not sent: " + status.error().message);
        }
    }
    totp::wipe(message.text_body);
    return sent;
}

// Counts one verification mail against the account's daily limit, in the record, before
// the mail goes out: a mail that was sent is always counted, even if the tool is killed
// right after. Errc::not_permitted past the limit, saying when the next one is possible.
totp::Status count_mail(Session& session, const std::string& user) {
    totp::Result<OpenRecord> open = session.open_enrolled(user);
    if (!open) return open.error();
    totp::UserState state = open->state()->clone();
    const std::int64_t now = session.now();
    if (state.email_mails == 0 || now < state.email_mails_since ||
        now >= state.email_mails_since + kDay) {
        state.email_mails = 0;
        state.email_mails_since = now;
    }
    if (state.email_mails >= kMailsPerDay) {
        const std::int64_t wait = state.email_mails_since + kDay - now;
        return totp::make_error(totp::Errc::not_permitted,
                                std::to_string(kMailsPerDay) + " verification mails for " + user +
                                    " in the last 24 hours already; try again in " +
                                    std::to_string((wait + 3599) / 3600) + " hours");
    }
    ++state.email_mails;
    if (totp::Status saved = open->record->save(state); !saved) {
        return runtime_failure(saved.error());
    }
    return {};
}

totp::Status read_back(const totp::SecretString& code) {
    const totp::Result<std::uint64_t> confirmed = ask_for_code(
        kCodePrompt,
        [&](std::string_view typed) -> std::optional<std::uint64_t> {
            if (!totp::equal_constant_time(typed, code.view())) return std::nullopt;
            return 0;
        },
        "the address was not confirmed; nothing was changed");
    if (!confirmed) return confirmed.error();
    return {};
}

}  // namespace

totp::Status verify_email(Session& session, const CommandLine& command) {
    totp::Result<Account> target = session.target(command.user);
    if (!target) return target.error();
    const std::string& address = *command.address;
    if (totp::Status valid = totp::validate_address(address); !valid) {
        return totp::make_error(totp::Errc::invalid_argument,
                                "bad address: " + valid.error().message);
    }
    {
        // Closed again before PAM, which locks the same record.
        totp::Result<OpenRecord> enrolled = session.open_enrolled(target->name);
        if (!enrolled) return enrolled.error();
    }
    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated;
    }

    totp::Result<totp::MailSettings> settings = mail_settings(session);
    if (!settings) return settings.error();
    totp::Result<totp::SecretString> code = make_code();
    if (!code) return code.error();
    if (totp::Status counted = count_mail(session, target->name); !counted) return counted;
    if (totp::Status sent = send_code(session, *settings, target->name, address, *code); !sent) {
        return sent;
    }
    say(totp::translate_filled("A 6-digit code was sent to %s.", address));
    if (totp::Status confirmed = read_back(*code); !confirmed) return confirmed;

    // Links mailed to the old address stop working, whoever reads that mailbox now. Dropped
    // first: a failure or a kill before the save then leaves no old link next to the new
    // address.
    if (totp::Status dropped = session.drop_reset_links(target->name); !dropped) return dropped;
    {
        totp::Result<OpenRecord> open = session.open_enrolled(target->name);
        if (!open) return open.error();
        totp::UserState state = open->state()->clone();
        state.email = address;
        state.email_verified = true;
        if (totp::Status saved = open->record->save(state); !saved) {
            return runtime_failure(saved.error());
        }
    }
    // And again: totp-resetd may have stored a link for the old address between the first
    // drop and the save. It reads the address again after storing a link, so a link stored
    // after this drop sees the new address and is not mailed to the old one.
    if (totp::Status dropped = session.drop_reset_links(target->name); !dropped) {
        return totp::make_error(dropped.error().code,
                                "the address was recorded, but links sent before may still "
                                "work: " +
                                    dropped.error().message);
    }
    session.privileges().drop_permanently();
    say(totp::translate_filled("Email address verified: %s", address));
    return {};
}

}  // namespace totp_enroll
