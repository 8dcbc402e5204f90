// SPDX-License-Identifier: Apache-2.0
// Who is asking, about whom, with which settings, against which store: everything a
// subcommand needs, set up once by main.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "command_line.hpp"
#include "privileges.hpp"
#include "totp/account.hpp"
#include "totp/config.hpp"
#include "totp/result.hpp"
#include "totp/store.hpp"
#include "totp/user_state.hpp"

namespace totp_enroll {

using Account = totp::Account;

// The account a name logs into, named canonically (totp::canonical_account): records are
// keyed by that name, whatever spelling was given. Errc::not_found if there is none.
totp::Result<Account> find_account(const std::string& name);

// A user's record, open and locked, with the privileges needed to read and write it.
// The record is closed (and its lock released) before the privileges are given back.
struct OpenRecord {
    Privileges::Elevation elevation;
    std::unique_ptr<totp::Record> record;

    const std::optional<totp::UserState>& state() const { return record->state(); }
};

class Session {
  public:
    // Loads the configuration (--config for root, else the default path) and looks up
    // the caller.
    static totp::Result<Session> open(Privileges& privileges, const CommandLine& command);

    Privileges& privileges() { return *privileges_; }
    const Account& caller() const { return caller_; }
    bool caller_is_root() const { return privileges_->caller_is_root(); }
    const totp::Settings& settings() const { return settings_; }
    const std::string& config_path() const { return config_path_; }
    std::int64_t now() const;

    // The user a subcommand acts on: `name`, else the caller. Anyone but root may name
    // only themselves (Errc::not_permitted); an unknown user is Errc::not_found.
    totp::Result<Account> target(const std::optional<std::string>& name) const;

    // Opens and locks a user's record. Runtime failures (store missing, unsafe, unreadable)
    // are Errc::io.
    totp::Result<OpenRecord> open_record(const std::string& user);

    // The record of an enrolled user; Errc::not_found if the user is not enrolled.
    totp::Result<OpenRecord> open_enrolled(const std::string& user);

    // Replaces (or creates) a user's record with `state`, keeping the email address the
    // old record holds (enrolling again does not drop a verified address) and the old
    // record's authenticators whose names `state` does not use (a spare token survives
    // re-enrolling the phone), as replace_authenticators does. Errc::invalid_argument,
    // nothing written, if that goes past max_authenticators.
    totp::Status save_keeping_email(const std::string& user, totp::UserState& state);

    // totp::replace_authenticators under this configuration's max_authenticators, the
    // refusal naming `user`: what save_keeping_email applies, and what can be asked before
    // anything is shown.
    totp::Status replace_authenticators(const std::string& user, totp::UserState& state,
                                        const totp::UserState& previous) const;

    totp::Result<std::vector<std::string>> enrolled_users();

    // Ends every outstanding password-reset link of `user`: a link must not outlive the
    // address it was sent to.
    totp::Status drop_reset_links(const std::string& user);

    // One authpriv line for a change to a user's authenticators, naming the caller: someone
    // holding the password and one code can add a token of their own and keep it while the
    // owner's phone goes on working, so every change is left where the admin can see it.
    // `what` names the user and the authenticator, never a secret.
    void audit(const std::string& what) const;

    // A caller other than root proves who they are before anything is written: password,
    // and a code or recovery code if enrolled (PAM service "totp-enroll").
    totp::Status authenticate_caller();

  private:
    Session(Privileges& privileges, Account caller, totp::Settings settings,
            std::string config_path, std::unique_ptr<totp::Store> store);

    Privileges* privileges_;
    Account caller_;
    totp::Settings settings_;
    std::string config_path_;
    std::unique_ptr<totp::Store> store_;
    std::unique_ptr<totp::ResetTokenStore> tokens_;  // opened on first use: rarely needed
};

}  // namespace totp_enroll
