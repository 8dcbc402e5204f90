// SPDX-License-Identifier: Apache-2.0
#include "session.hpp"

#include <syslog.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "caller_auth.hpp"
#include "errors.hpp"
#include "totp/clock.hpp"
#include "totp/store_factory.hpp"
#include "totp/text.hpp"

namespace totp_enroll {
namespace {

// The message names the user as typed: shown on the terminal, so only printable.
totp::Result<Account> from_lookup(totp::Result<totp::Account> account) {
    if (!account) {
        return totp::make_error(account.error().code,
                                totp::printable(account.error().message, 120));
    }
    return std::move(*account);
}

}  // namespace

totp::Result<Account> find_account(const std::string& name) {
    return from_lookup(totp::canonical_account(name));
}

Session::Session(Privileges& privileges, Account caller, totp::Settings settings,
                 std::string config_path, std::unique_ptr<totp::Store> store)
    : privileges_(&privileges),
      caller_(std::move(caller)),
      settings_(std::move(settings)),
      config_path_(std::move(config_path)),
      store_(std::move(store)) {}

totp::Result<Session> Session::open(Privileges& privileges, const CommandLine& command) {
    totp::Result<Account> caller = from_lookup(totp::find_account(privileges.caller_uid()));
    if (!caller) return caller.error();

    const std::string path = command.config.value_or(totp::kDefaultConfigPath);
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    {
        // The default file may be private to root; its path is fixed for non-root callers.
        const Privileges::Elevation elevated = privileges.elevate();
        totp::load_config_file(path, /*missing_ok=*/!command.config, settings, problems);
    }
    for (const totp::ConfigProblem& problem : problems) {
        // The file may be root's only: a non-root caller learns that it is broken, not what
        // it says (not even a key's name: a mistyped line could be anything).
        if (!privileges.caller_is_root()) {
            if (problem.security_relevant) {
                return totp::make_error(totp::Errc::io,
                                        "the configuration has an error only root can see and fix "
                                        "(totp-check shows it)");
            }
            continue;
        }
        if (problem.security_relevant) return totp::make_error(totp::Errc::io, problem.message);
        std::fprintf(stderr, "totp-enroll: warning: %s\n", problem.message.c_str());
    }
    totp::Result<std::unique_ptr<totp::Store>> store = [&] {
        // The database's key and password files are root's.
        const Privileges::Elevation elevated = privileges.elevate();
        return totp::make_store(settings);
    }();
    if (!store) return runtime_failure(store.error());
    return Session(privileges, std::move(*caller), std::move(settings), path, std::move(*store));
}

std::int64_t Session::now() const {
    return totp::SystemClock().now();
}

totp::Result<Account> Session::target(const std::optional<std::string>& name) const {
    if (!name || *name == caller_.name) return caller_;
    if (!caller_is_root()) {
        return totp::make_error(totp::Errc::not_permitted,
                                "only root may act on another user's enrollment");
    }
    return find_account(*name);
}

totp::Result<OpenRecord> Session::open_record(const std::string& user) {
    OpenRecord open;
    // The home layout (secret_path=) is the user's own file: no privilege needed.
    if (settings_.secret_path.empty()) open.elevation = privileges_->elevate();
    totp::Result<std::unique_ptr<totp::Record>> record = store_->open(user);
    if (!record) return runtime_failure(record.error());
    open.record = std::move(*record);
    return open;
}

totp::Result<OpenRecord> Session::open_enrolled(const std::string& user) {
    totp::Result<OpenRecord> open = open_record(user);
    if (open && !open->state()) {
        return totp::make_error(totp::Errc::not_found, user + " is not enrolled");
    }
    return open;
}

totp::Status Session::drop_reset_links(const std::string& user) {
    // The links live in the state directory (root's) whatever the layout of the records,
    // and the database's key and password files are root's too. Dropping them locks every
    // user's links in turn, and totp-resetd waits for those locks: the caller must not be
    // able to stop the tool in the middle.
    const Privileges::Elevation elevated = privileges_->elevate();
    const Privileges::Unstoppable unstoppable = privileges_->unstoppable();
    if (!tokens_) {
        totp::Result<std::unique_ptr<totp::ResetTokenStore>> tokens =
            totp::make_reset_token_store(settings_);
        if (!tokens) return runtime_failure(tokens.error());
        tokens_ = std::move(*tokens);
    }
    if (totp::Status dropped = tokens_->drop_reset_tokens(user); !dropped) {
        return runtime_failure(dropped.error());
    }
    return {};
}

totp::Status Session::save_keeping_email(const std::string& user, totp::UserState& state) {
    totp::Result<OpenRecord> open = open_record(user);
    if (!open) return open.error();
    if (const auto& previous = open->state()) {
        state.email = previous->email;
        state.email_verified = previous->email_verified;
        // The daily limit on verification mails must not start again with a new secret.
        state.email_mails = previous->email_mails;
        state.email_mails_since = previous->email_mails_since;
        if (totp::Status kept = replace_authenticators(user, state, *previous); !kept) return kept;
    }
    if (totp::Status saved = open->record->save(state); !saved) {
        return runtime_failure(saved.error());
    }
    return {};
}

totp::Status Session::replace_authenticators(const std::string& user, totp::UserState& state,
                                             const totp::UserState& previous) const {
    const auto max = static_cast<std::size_t>(settings_.max_authenticators);
    if (totp::Status replaced = totp::replace_authenticators(state, previous, max); !replaced) {
        return totp::make_error(replaced.error().code, user + " " + replaced.error().message);
    }
    return {};
}

totp::Result<std::vector<std::string>> Session::enrolled_users() {
    const Privileges::Elevation elevated = privileges_->elevate();
    totp::Result<std::vector<std::string>> users = store_->users();
    if (!users) return runtime_failure(users.error());
    return std::move(*users);
}

void Session::audit(const std::string& what) const {
    ::syslog(LOG_AUTHPRIV | LOG_NOTICE, "%s by %s", what.c_str(), caller_.name.c_str());
}

totp::Status Session::authenticate_caller() {
    if (caller_is_root()) return {};
    return authenticate_with_pam(caller_.name, *privileges_);
}

}  // namespace totp_enroll
