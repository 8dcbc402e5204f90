#include "email.hpp"

#include <unistd.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <string>

#include "terminal.hpp"
#include "totp/mail.hpp"
#include "totp/secret.hpp"

namespace totp_enroll {
namespace {

constexpr int kTries = 3;
constexpr std::uint32_t kCodeRange = 1'000'000;  // six digits
constexpr const char* kCodePrompt = "Enter the code from the email: ";

// A uniformly random 6-digit code (rejection sampling keeps it unbiased).
Expected<totp::SecretString> make_code() {
    constexpr std::uint64_t kLimit =
        (std::uint64_t{1} << 32) - ((std::uint64_t{1} << 32) % kCodeRange);
    std::uint32_t value = 0;
    do {
        if (!totp::random_bytes(reinterpret_cast<std::uint8_t*>(&value), sizeof value)) {
            return fail(Exit::failure, "the random number generator failed");
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

Expected<totp::MailSettings> mail_settings(Session& session) {
    totp::MailSettings settings;
    std::vector<totp::ConfigProblem> problems;
    {
        const Privileges::Elevation elevated = session.privileges().elevate();
        totp::load_mail_settings(session.config_path(), settings, problems);
    }
    for (const totp::ConfigProblem& problem : problems) {
        if (problem.security_relevant) return fail(Exit::failure, problem.message);
        std::fprintf(stderr, "totp-enroll: warning: %s\n", problem.message.c_str());
    }
    return settings;
}

Outcome send_code(Session& session, const totp::MailSettings& settings, const std::string& user,
                  const std::string& address, const totp::SecretString& code) {
    totp::MailMessage message;
    message.to = address;
    message.subject = "Your verification code for " + host_name();
    message.text_body = "Your verification code is " + std::string(code.view()) +
                        "\n\nType it into totp-enroll to confirm this address for password resets "
                        "of the account " +
                        user + " on " + host_name() +
                        ".\nIf you did not ask for this, you can ignore this message.\n";
    Outcome sent;
    {
        // The SMTP password file is root's; the elevation is only needed when there is one.
        const Privileges::Elevation elevated = settings.smtp_password_file.empty()
                                                   ? Privileges::Elevation()
                                                   : session.privileges().elevate();
        if (totp::Status status = totp::send_mail(settings, message, session.now()); !status) {
            sent = fail(Exit::failure, "mail not sent: " + status.error().message);
        }
    }
    totp::wipe(message.text_body);
    return sent;
}

Outcome read_back(const totp::SecretString& code) {
    for (int attempt = 0; attempt < kTries; ++attempt) {
        Expected<totp::SecretString> typed = ask_line(kCodePrompt, Echo::off);
        if (!typed) return typed.failure();
        if (totp::equal_constant_time(typed->view(), code.view())) return {};
        say("That code is not correct.");
    }
    return fail(Exit::aborted, "the address was not confirmed; nothing was changed");
}

}  // namespace

Outcome verify_email(Session& session, const CommandLine& command) {
    Expected<Account> target = session.target(command.user);
    if (!target) return target.failure();
    const std::string& address = *command.address;
    if (totp::Status valid = totp::validate_address(address); !valid) {
        return fail(Exit::usage, "bad address: " + valid.error().message);
    }
    {
        // Closed again before PAM, which locks the same record.
        Expected<OpenRecord> enrolled = session.open_enrolled(target->name);
        if (!enrolled) return enrolled.failure();
    }
    if (Outcome authenticated = session.authenticate_caller(); !authenticated) return authenticated;

    Expected<totp::MailSettings> settings = mail_settings(session);
    if (!settings) return settings.failure();
    Expected<totp::SecretString> code = make_code();
    if (!code) return code.failure();
    if (Outcome sent = send_code(session, *settings, target->name, address, *code); !sent)
        return sent;
    say("A 6-digit code was sent to " + address + ".");
    if (Outcome confirmed = read_back(*code); !confirmed) return confirmed;

    {
        Expected<OpenRecord> open = session.open_enrolled(target->name);
        if (!open) return open.failure();
        totp::UserState state = open->state()->clone();
        state.email = address;
        state.email_verified = true;
        if (totp::Status saved = open->record->save(state); !saved) return from_core(saved.error());
    }
    session.privileges().drop_permanently();
    say("Email address verified: " + address);
    return {};
}

}  // namespace totp_enroll
