#include "session.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

#include "caller_auth.hpp"
#include "terminal.hpp"
#include "totp/clock.hpp"
#include "totp/store_factory.hpp"
#include "totp/text.hpp"

namespace totp_enroll {
namespace {

Expected<Account> from_lookup(totp::Result<totp::Account> account) {
    if (!account) {
        const Exit exit =
            account.error().code == totp::Errc::not_found ? Exit::not_found : Exit::failure;
        return fail(exit, totp::printable(account.error().message, 120));
    }
    return std::move(*account);
}

}  // namespace

Expected<Account> find_account(const std::string& name) {
    return from_lookup(totp::canonical_account(name));
}

Session::Session(Privileges& privileges, Account caller, totp::Settings settings,
                 std::string config_path, std::unique_ptr<totp::Store> store)
    : privileges_(&privileges),
      caller_(std::move(caller)),
      settings_(std::move(settings)),
      config_path_(std::move(config_path)),
      store_(std::move(store)) {}

Expected<Session> Session::open(Privileges& privileges, const CommandLine& command) {
    Expected<Account> caller = from_lookup(totp::find_account(privileges.caller_uid()));
    if (!caller) return caller.failure();

    const std::string path = command.config.value_or(totp::kDefaultConfigPath);
    totp::Settings settings;
    std::vector<totp::ConfigProblem> problems;
    {
        // The default file may be private to root; its path is fixed for non-root callers.
        const Privileges::Elevation elevated = privileges.elevate();
        totp::load_config_file(path, /*missing_ok=*/!command.config, settings, problems);
    }
    for (const totp::ConfigProblem& problem : problems) {
        if (problem.security_relevant) return fail(Exit::failure, problem.message);
        std::fprintf(stderr, "totp-enroll: warning: %s\n", problem.message.c_str());
    }
    totp::Result<std::unique_ptr<totp::Store>> store = [&] {
        // The database's key and password files are root's.
        const Privileges::Elevation elevated = privileges.elevate();
        return totp::make_store(settings);
    }();
    if (!store) return from_core(store.error());
    return Session(privileges, std::move(*caller), std::move(settings), path, std::move(*store));
}

std::int64_t Session::now() const {
    return totp::SystemClock().now();
}

Expected<Account> Session::target(const std::optional<std::string>& name) const {
    if (!name || *name == caller_.name) return caller_;
    if (!caller_is_root()) {
        return fail(Exit::not_permitted, "only root may act on another user's enrollment");
    }
    return find_account(*name);
}

Expected<OpenRecord> Session::open_record(const std::string& user) {
    OpenRecord open;
    // The home layout (secret_path=) is the user's own file: no privilege needed.
    if (settings_.secret_path.empty()) open.elevation = privileges_->elevate();
    totp::Result<std::unique_ptr<totp::Record>> record = store_->open(user);
    if (!record) return from_core(record.error());
    open.record = std::move(*record);
    return open;
}

Expected<OpenRecord> Session::open_enrolled(const std::string& user) {
    Expected<OpenRecord> open = open_record(user);
    if (open && !open->state()) return fail(Exit::not_found, user + " is not enrolled");
    return open;
}

Expected<std::vector<std::string>> Session::enrolled_users() {
    const Privileges::Elevation elevated = privileges_->elevate();
    totp::Result<std::vector<std::string>> users = store_->users();
    if (!users) return from_core(users.error());
    return std::move(*users);
}

Outcome Session::authenticate_caller() {
    if (caller_is_root()) return {};
    return authenticate_with_pam(caller_.name, *privileges_);
}

}  // namespace totp_enroll
