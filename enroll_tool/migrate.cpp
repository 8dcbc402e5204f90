#include "migrate.hpp"

#include <memory>
#include <string>

#include "terminal.hpp"
#include "totp/store_factory.hpp"

namespace totp_enroll {
namespace {

Expected<std::unique_ptr<totp::Store>> store_of_kind(const totp::Settings& settings,
                                                     const std::string& kind) {
    totp::Result<std::unique_ptr<totp::Store>> store = kind == "postgresql"
                                                           ? totp::make_postgresql_store(settings)
                                                           : totp::make_files_store(settings);
    if (!store) return from_core(store.error());
    return std::move(*store);
}

// Copies one user's record; says what happened on one line.
Outcome copy_user(totp::Store& from, totp::Store& to, const std::string& user) {
    totp::Result<std::unique_ptr<totp::Record>> source = from.open(user);
    if (!source) return from_core(source.error());
    if (!(*source)->state()) return {};  // removed meanwhile
    totp::Result<std::unique_ptr<totp::Record>> target = to.open(user);
    if (!target) return from_core(target.error());
    const bool replacing = (*target)->state().has_value();
    if (totp::Status saved = (*target)->save(*(*source)->state()); !saved) {
        return from_core(saved.error());
    }
    say((replacing ? "replaced " : "copied ") + user);
    return {};
}

}  // namespace

Outcome migrate_store(Session& session, const CommandLine& command) {
    const std::string& target_kind = *command.to;
    const std::string source_kind = target_kind == "postgresql" ? "files" : "postgresql";
    const Privileges::Elevation elevated = session.privileges().elevate();
    Expected<std::unique_ptr<totp::Store>> from = store_of_kind(session.settings(), source_kind);
    if (!from) return from.failure();
    Expected<std::unique_ptr<totp::Store>> to = store_of_kind(session.settings(), target_kind);
    if (!to) return to.failure();

    totp::Result<std::vector<std::string>> users = (*from)->users();
    if (!users) return from_core(users.error());
    std::size_t failed = 0;
    for (const std::string& user : *users) {
        if (Outcome copied = copy_user(**from, **to, user); !copied) {
            say("failed " + user + ": " + copied.failure().message);
            ++failed;
        }
    }
    say(std::to_string(users->size() - failed) + " of " + std::to_string(users->size()) +
        " user(s) now in the " + target_kind + " store; the " + source_kind +
        " store is unchanged (set store = " + target_kind + " to switch)");
    if (failed > 0) return fail(Exit::failure, std::to_string(failed) + " user(s) not migrated");
    return {};
}

Outcome upgrade_database(Session& session) {
    const Privileges::Elevation elevated = session.privileges().elevate();
    totp::Result<std::string> done = totp::upgrade_postgresql_schema(session.settings());
    if (!done) return from_core(done.error());
    say(*done);
    return {};
}

}  // namespace totp_enroll
