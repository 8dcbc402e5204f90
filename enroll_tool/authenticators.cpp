// SPDX-License-Identifier: Apache-2.0
#include "authenticators.hpp"

#include <string>

#include "errors.hpp"
#include "terminal.hpp"
#include "totp/user_state.hpp"
#include "totp/verify.hpp"

namespace totp_enroll {
namespace {

// The target's record, after the caller proved who they are (the lock is not held while
// they type), ready to change.
totp::Result<OpenRecord> open_for_change(Session& session, const CommandLine& command,
                                         Account& target) {
    totp::Result<Account> account = session.target(command.user);
    if (!account) return account.error();
    target = *account;
    {
        // Fail early for someone not enrolled; closed again before PAM takes the lock.
        totp::Result<OpenRecord> enrolled = session.open_enrolled(target.name);
        if (!enrolled) return enrolled.error();
    }
    if (totp::Status authenticated = session.authenticate_caller(); !authenticated) {
        return authenticated.error();
    }
    return session.open_enrolled(target.name);
}

std::string describe_sync(const totp::Authenticator& token) {
    if (token.type == totp::OtpType::hotp) {
        return "next counter " + std::to_string(token.counter);
    }
    return "clock offset " + std::to_string(token.offset) + " steps (" +
           std::to_string(static_cast<long long>(token.offset) * token.params.period) + " s)";
}

}  // namespace

totp::Status remove_named_authenticator(Session& session, const CommandLine& command) {
    Account target;
    totp::Result<OpenRecord> open = open_for_change(session, command, target);
    if (!open) return open.error();
    totp::UserState state = open->state()->clone();
    if (totp::Status removed = totp::remove_authenticator(state, *command.name); !removed) {
        if (removed.error().code == totp::Errc::not_found) {
            return totp::make_error(totp::Errc::not_found,
                                    target.name + " has no authenticator '" + *command.name + "'");
        }
        return totp::make_error(totp::Errc::invalid_argument,
                                "'" + *command.name + "' is the only authenticator of " +
                                    target.name +
                                    "; to remove the enrollment use "
                                    "'totp-enroll remove --user " +
                                    target.name + "'");
    }
    if (totp::Status saved = open->record->save(state); !saved) {
        return runtime_failure(saved.error());
    }
    session.audit(target.name + ": authenticator '" + *command.name + "' removed");
    say(target.name + ": authenticator '" + *command.name + "' removed");
    return {};
}

totp::Status resync_authenticator(Session& session, const CommandLine& command) {
    Account target;
    totp::Result<OpenRecord> open = open_for_change(session, command, target);
    if (!open) return open.error();
    totp::UserState state = open->state()->clone();
    totp::Authenticator* token = totp::find_authenticator(state, *command.name);
    if (token == nullptr) {
        return totp::make_error(totp::Errc::not_found,
                                target.name + " has no authenticator '" + *command.name + "'");
    }
    if (totp::Status synced =
            totp::resync(*token, command.codes[0].view(), command.codes[1].view(), session.now());
        !synced) {
        return totp::make_error(totp::Errc::cancelled, synced.error().message);
    }
    if (totp::Status saved = open->record->save(state); !saved) {
        return runtime_failure(saved.error());
    }
    session.audit(target.name + ": authenticator '" + *command.name + "' resynchronised");
    say(target.name + ": authenticator '" + *command.name +
        "' resynchronised: " + describe_sync(*token));
    return {};
}

}  // namespace totp_enroll
