// SPDX-License-Identifier: Apache-2.0
// totp-enroll: enroll a second factor for pam_totp, and manage enrollments.
//
// Installed setuid root (see privileges.hpp). The order below is the security argument:
// privileges are dropped before the command line is read, root-only requests from
// anyone else are refused before any file is opened, and every failure becomes one
// line on stderr and one documented exit status, here and nowhere else.
#include <syslog.h>

#include <clocale>
#include <cstdio>
#include <exception>
#include <new>

#include "admin.hpp"
#include "authenticators.hpp"
#include "command_line.hpp"
#include "email.hpp"
#include "enroll.hpp"
#include "import.hpp"
#include "migrate.hpp"
#include "privileges.hpp"
#include "rollout.hpp"
#include "session.hpp"
#include "totp/result.hpp"
#include "totp/translation.hpp"

#ifndef TOTP_VERSION
#define TOTP_VERSION "unknown"
#endif

namespace totp_enroll {
namespace {

// The exit statuses documented in totp-enroll(1).
enum class Exit : int {
    ok = 0,
    failure = 1,        // runtime: store not writable, mail not sent, I/O
    usage = 2,          // bad option or value, unsupported parameters, malformed input
    not_permitted = 3,  // root-only request, caller authentication failed, another user's record
    not_found = 4,      // unknown user, not enrolled, unreadable import file
    aborted = 5,        // confirmation failed, or Ctrl-C / end of input at a prompt
};

Exit exit_status(totp::Errc code) {
    switch (code) {
        case totp::Errc::invalid_argument:
        case totp::Errc::unsupported:
            return Exit::usage;
        case totp::Errc::not_permitted:
            return Exit::not_permitted;
        case totp::Errc::not_found:
            return Exit::not_found;
        case totp::Errc::cancelled:
            return Exit::aborted;
        case totp::Errc::unsafe:
        case totp::Errc::corrupt:
        case totp::Errc::io:
        case totp::Errc::unavailable:
        case totp::Errc::busy:
            break;
    }
    return Exit::failure;
}

// `remove --name LABEL` removes one of the caller's own authenticators; without --name it
// removes a whole enrollment, which only root may do.
bool is_root_only(const CommandLine& command) {
    const Subcommand subcommand = command.subcommand;
    return (subcommand == Subcommand::remove && !command.name) ||
           subcommand == Subcommand::unlock || subcommand == Subcommand::list ||
           subcommand == Subcommand::import_oath || subcommand == Subcommand::import_pskc ||
           subcommand == Subcommand::migrate || subcommand == Subcommand::db_upgrade ||
           subcommand == Subcommand::enforce || subcommand == Subcommand::rollout;
}

totp::Status check_permitted(const CommandLine& command, const Privileges& privileges) {
    if (privileges.caller_is_root()) return {};
    if (is_root_only(command)) {
        return totp::make_error(totp::Errc::not_permitted, "this subcommand is for root only");
    }
    if (command.uses_root_only_options()) {
        return totp::make_error(totp::Errc::not_permitted,
                                "--user, --config, --no-confirm, --secret and --pam-root are for "
                                "root only");
    }
    return {};
}

totp::Status dispatch(Session& session, const CommandLine& command) {
    switch (command.subcommand) {
        case Subcommand::enroll:
            return enroll(session, command);
        case Subcommand::status:
            return show_status(session, command);
        case Subcommand::recovery_codes:
            return renew_recovery_codes(session, command);
        case Subcommand::remove:
            return command.name ? remove_named_authenticator(session, command)
                                : remove_user(session, command);
        case Subcommand::add:
            return add_named_authenticator(session, command);
        case Subcommand::resync:
            return resync_authenticator(session, command);
        case Subcommand::unlock:
            return unlock_user(session, command);
        case Subcommand::list:
            return list_enrolled(session, command);
        case Subcommand::import_google_authenticator:
            return import_google_authenticator(session, command);
        case Subcommand::import_oath:
            return import_oath(session, command);
        case Subcommand::import_pskc:
            return import_pskc(session, command);
        case Subcommand::email:
            return verify_email(session, command);
        case Subcommand::migrate:
            return migrate_store(session, command);
        case Subcommand::db_upgrade:
            return upgrade_database(session);
        case Subcommand::enforce:
            return enforce(session, command);
        case Subcommand::rollout:
            return roll_out(session, command);
        case Subcommand::help:
        case Subcommand::version:
            break;
    }
    return {};
}

totp::Status run(Privileges& privileges, int argc, char** argv) {
    totp::Result<CommandLine> command = parse_command_line(argc, argv);
    if (!command || command->subcommand == Subcommand::help ||
        command->subcommand == Subcommand::version) {
        privileges.drop_permanently();
    }
    if (!command) return command.error();
    if (command->subcommand == Subcommand::help) {
        std::fputs(usage_text(), stdout);
        return {};
    }
    if (command->subcommand == Subcommand::version) {
        std::printf("totp-enroll %s\n", TOTP_VERSION);
        return {};
    }
    if (totp::Status permitted = check_permitted(*command, privileges); !permitted) {
        privileges.drop_permanently();
        return permitted;
    }
    totp::Result<Session> session = Session::open(privileges, *command);
    if (!session) return session.error();
    return dispatch(*session, *command);
}

int report(const totp::Status& outcome) {
    if (outcome) return static_cast<int>(Exit::ok);
    std::fflush(stdout);
    std::fprintf(stderr, "totp-enroll: %s\n", outcome.error().message.c_str());
    return static_cast<int>(exit_status(outcome.error().code));
}

}  // namespace
}  // namespace totp_enroll

int main(int argc, char** argv) {
    using namespace totp_enroll;
    // The tag is fixed: without it syslog takes argv[0], which the setuid tool's caller
    // chooses, and an audit line could appear as another program's.
    ::openlog("totp-enroll", LOG_PID, LOG_AUTHPRIV);
    Privileges privileges = Privileges::start();
    // Questions and instructions in the caller's language, as passwd(1) does (the locale
    // files are read as the caller); errors, status and listings stay in English for scripts.
    static_cast<void>(std::setlocale(LC_ALL, ""));
    totp::bind_catalog();
    totp::Status outcome;
    try {
        outcome = run(privileges, argc, argv);
    } catch (const std::bad_alloc&) {
        outcome = totp::make_error(totp::Errc::io, "out of memory");
    } catch (const std::exception& error) {
        outcome = totp::make_error(totp::Errc::io, error.what());
    }
    privileges.drop_permanently();
    return report(outcome);
}
