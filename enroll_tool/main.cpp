// totp-enroll: enroll a second factor for pam_totp, and manage enrollments.
//
// Installed setuid root (see privileges.hpp). The order below is the security argument:
// privileges are dropped before the command line is read, root-only requests from
// anyone else are refused before any file is opened, and every failure becomes one
// line on stderr and one documented exit status, here and nowhere else.
#include <cstdio>
#include <exception>
#include <new>

#include "admin.hpp"
#include "command_line.hpp"
#include "email.hpp"
#include "enroll.hpp"
#include "failure.hpp"
#include "import.hpp"
#include "migrate.hpp"
#include "privileges.hpp"
#include "session.hpp"

#ifndef TOTP_VERSION
#define TOTP_VERSION "unknown"
#endif

namespace totp_enroll {
namespace {

bool is_root_only(Subcommand subcommand) {
    return subcommand == Subcommand::remove || subcommand == Subcommand::unlock ||
           subcommand == Subcommand::list || subcommand == Subcommand::import_oath ||
           subcommand == Subcommand::migrate || subcommand == Subcommand::db_upgrade;
}

Outcome check_permitted(const CommandLine& command, const Privileges& privileges) {
    if (privileges.caller_is_root()) return {};
    if (is_root_only(command.subcommand)) {
        return fail(Exit::not_permitted, "this subcommand is for root only");
    }
    if (command.uses_root_only_options()) {
        return fail(Exit::not_permitted,
                    "--user, --config, --no-confirm and --secret are for root only");
    }
    return {};
}

Outcome dispatch(Session& session, const CommandLine& command) {
    switch (command.subcommand) {
        case Subcommand::enroll:
            return enroll(session, command);
        case Subcommand::status:
            return show_status(session, command);
        case Subcommand::recovery_codes:
            return renew_recovery_codes(session, command);
        case Subcommand::remove:
            return remove_user(session, command);
        case Subcommand::unlock:
            return unlock_user(session, command);
        case Subcommand::list:
            return list_enrolled(session, command);
        case Subcommand::import_google_authenticator:
            return import_google_authenticator(session, command);
        case Subcommand::import_oath:
            return import_oath(session, command);
        case Subcommand::email:
            return verify_email(session, command);
        case Subcommand::migrate:
            return migrate_store(session, command);
        case Subcommand::db_upgrade:
            return upgrade_database(session);
        case Subcommand::help:
        case Subcommand::version:
            break;
    }
    return {};
}

Outcome run(Privileges& privileges, int argc, char** argv) {
    Expected<CommandLine> command = parse_command_line(argc, argv);
    if (!command || command->subcommand == Subcommand::help ||
        command->subcommand == Subcommand::version) {
        privileges.drop_permanently();
    }
    if (!command) return command.failure();
    if (command->subcommand == Subcommand::help) {
        std::fputs(usage_text(), stdout);
        return {};
    }
    if (command->subcommand == Subcommand::version) {
        std::printf("totp-enroll %s\n", TOTP_VERSION);
        return {};
    }
    if (Outcome permitted = check_permitted(*command, privileges); !permitted) {
        privileges.drop_permanently();
        return permitted;
    }
    Expected<Session> session = Session::open(privileges, *command);
    if (!session) return session.failure();
    return dispatch(*session, *command);
}

int report(const Outcome& outcome) {
    if (outcome) return static_cast<int>(Exit::ok);
    std::fflush(stdout);
    std::fprintf(stderr, "totp-enroll: %s\n", outcome.failure().message.c_str());
    return static_cast<int>(outcome.failure().exit);
}

}  // namespace
}  // namespace totp_enroll

int main(int argc, char** argv) {
    using namespace totp_enroll;
    Privileges privileges = Privileges::start();
    Outcome outcome;
    try {
        outcome = run(privileges, argc, argv);
    } catch (const std::bad_alloc&) {
        outcome = fail(Exit::failure, "out of memory");
    } catch (const std::exception& error) {
        outcome = fail(Exit::failure, error.what());
    }
    privileges.drop_permanently();
    return report(outcome);
}
