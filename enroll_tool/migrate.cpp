// SPDX-License-Identifier: Apache-2.0
#include "migrate.hpp"

#include <memory>
#include <string>

#include "errors.hpp"
#include "terminal.hpp"
#include "totp/store_factory.hpp"

namespace totp_enroll {
namespace {

totp::Result<std::unique_ptr<totp::Store>> store_of_kind(const totp::Settings& settings,
                                                         const std::string& kind) {
    totp::Result<std::unique_ptr<totp::Store>> store = kind == "postgresql"
                                                           ? totp::make_postgresql_store(settings)
                                                           : totp::make_files_store(settings);
    if (!store) return runtime_failure(store.error());
    return std::move(*store);
}

// Copies one user's record; says what happened on one line.
totp::Status copy_user(totp::Store& from, totp::Store& to, const std::string& user) {
    totp::Result<std::unique_ptr<totp::Record>> source = from.open(user);
    if (!source) return runtime_failure(source.error());
    if (!(*source)->state()) return {};  // removed meanwhile
    totp::Result<std::unique_ptr<totp::Record>> target = to.open(user);
    if (!target) return runtime_failure(target.error());
    const bool replacing = (*target)->state().has_value();
    if (totp::Status saved = (*target)->save(*(*source)->state()); !saved) {
        return runtime_failure(saved.error());
    }
    say((replacing ? "replaced " : "copied ") + user);
    return {};
}

}  // namespace

totp::Status migrate_store(Session& session, const CommandLine& command) {
    const std::string& target_kind = *command.to;
    const std::string source_kind = target_kind == "postgresql" ? "files" : "postgresql";
    const Privileges::Elevation elevated = session.privileges().elevate();
    totp::Result<std::unique_ptr<totp::Store>> from =
        store_of_kind(session.settings(), source_kind);
    if (!from) return from.error();
    totp::Result<std::unique_ptr<totp::Store>> to = store_of_kind(session.settings(), target_kind);
    if (!to) return to.error();

    totp::Result<std::vector<std::string>> users = (*from)->users();
    if (!users) return runtime_failure(users.error());
    std::size_t failed = 0;
    for (const std::string& user : *users) {
        if (totp::Status copied = copy_user(**from, **to, user); !copied) {
            say("failed " + user + ": " + copied.error().message);
            ++failed;
        }
    }
    say(std::to_string(users->size() - failed) + " of " + std::to_string(users->size()) +
        " user(s) now in the " + target_kind + " store; the " + source_kind +
        " store is unchanged (set store = " + target_kind + " to switch)");
    if (failed > 0) {
        return totp::make_error(totp::Errc::io, std::to_string(failed) + " user(s) not migrated");
    }
    return {};
}

totp::Status upgrade_database(Session& session) {
    const Privileges::Elevation elevated = session.privileges().elevate();
    totp::Result<std::string> done = totp::upgrade_postgresql_schema(session.settings());
    if (!done) return runtime_failure(done.error());
    say(*done);
    return {};
}

}  // namespace totp_enroll
