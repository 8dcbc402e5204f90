// SPDX-License-Identifier: Apache-2.0
// Chooses the store backend. The PostgreSQL backend is loaded with dlopen from the one
// path compiled in here (TOTP_STORE_PG_PATH, under the system libdir), after checking
// through the opened fd that root owns it and nobody else can write it: a user can never
// make a privileged process load code of theirs.
#include "totp/store_factory.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "plugin_store.hpp"
#include "totp/hex.hpp"
#include "totp/root_file.hpp"
#include "totp/secret.hpp"
#include "totp/store_plugin.hpp"
#include "totp/unique_fd.hpp"

namespace totp {
namespace {

#ifndef TOTP_STORE_PG_PATH
#define TOTP_STORE_PG_PATH "/usr/lib/pam_totp/pam_totp_store_pg.so"
#endif
constexpr const char* kPgBackendPath = TOTP_STORE_PG_PATH;

Result<SecretBytes> read_key_file(const std::string& path) {
    Result<SecretString> text = read_secret_file("store key file", path);
    if (!text) return text.error();
    std::optional<SecretBytes> key = hex_decode_secret(text->view(), HexLetters::either_case);
    if (!key || key->size() != kStoreKeyBytes) {
        return make_error(Errc::invalid_argument,
                          "store key file " + path + ": must hold 64 hexadecimal digits");
    }
    return std::move(*key);
}

// What the PostgreSQL backend needs, read from the settings and the root-only files.
struct PgStoreOptions {
    std::string dsn;
    SecretString password;  // empty: none (or in the DSN)
    SecretBytes key;        // kStoreKeyBytes
    int connect_timeout = 3;

    // A view for one backend call; it lives no longer than this object.
    totp_store_options c_options() const {
        return {.dsn = dsn.c_str(),
                .password = password.c_str(),
                .key = key.data(),
                .key_len = key.size(),
                .connect_timeout = connect_timeout};
    }
};

Result<PgStoreOptions> pg_options(const Settings& settings) {
    if (settings.store_dsn.empty()) {
        return make_error(Errc::invalid_argument, "store = postgresql needs store_dsn");
    }
    PgStoreOptions options;
    options.dsn = settings.store_dsn;
    options.connect_timeout = settings.store_connect_timeout;
    Result<SecretBytes> key = read_key_file(settings.store_key_file);
    if (!key) return key.error();
    options.key = std::move(*key);
    if (!settings.store_password_file.empty()) {
        Result<SecretString> password =
            read_secret_file("store password file", settings.store_password_file);
        if (!password) return password.error();
        options.password = std::move(*password);
    }
    return options;
}

// Loads the backend and returns its interface table, checked (store_plugin.h). The backend
// stays loaded for the life of the process (RTLD_NODELETE): libpq and OpenSSL do not
// promise to survive being unloaded, and its code is called through the table.
Result<const totp_store_plugin_v1*> load_backend() {
    const std::string path = kPgBackendPath;
    const std::string what = "PostgreSQL store backend";
    Result<UniqueFd> opened = open_root_file(what, path, RootFile::not_writable);
    if (!opened) {
        return make_error(
            opened.error().code,
            opened.error().message + " (is the PostgreSQL backend package installed?)");
    }
    const UniqueFd fd = std::move(*opened);
    // Loading through the checked fd means the file checked is the file loaded.
    const std::string by_fd = "/proc/self/fd/" + std::to_string(fd.get());
    void* handle = ::dlopen(by_fd.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (handle == nullptr) {
        const char* reason = ::dlerror();
        return make_error(Errc::io, what + " " + path + ": cannot be loaded: " +
                                        (reason != nullptr ? reason : "unknown error"));
    }
    void* entry = ::dlsym(handle, TOTP_STORE_PLUGIN_ENTRY);
    if (entry == nullptr) {
        ::dlclose(handle);
        return make_error(Errc::unsupported, what + " " + path + ": lacks " +
                                                 TOTP_STORE_PLUGIN_ENTRY +
                                                 " (built from other sources?)");
    }
    const totp_store_plugin_v1* table = reinterpret_cast<totp_store_plugin_entry_fn*>(entry)();
    if (const std::optional<std::string> fault = plugin_table_fault(table)) {
        ::dlclose(handle);
        return make_error(Errc::unsupported,
                          what + " " + path + ": " + *fault + " (built from other sources?)");
    }
    // The handle is never closed: the table's functions are called after this returns.
    // cppcheck-suppress resourceLeak
    return table;
}

std::vector<std::string> split_users(std::string_view list) {
    std::vector<std::string> users;
    std::size_t start = 0;
    while (start < list.size()) {
        const std::size_t end = list.find_first_of(", ", start);
        const std::string_view name = list.substr(start, end - start);
        if (!name.empty()) users.emplace_back(name);
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return users;
}

// The database first; the file store only for break-glass users and only when no
// connection to the database could be made (Errc::unavailable). A query or transaction
// that fails once connected (Errc::io), a bad record or a missing schema fails closed:
// whoever can make the database's queries fail must not thereby move a break-glass user
// to the local file. (enrolled() is Store's, through open(): it must not answer
// "not enrolled" where open() fails.)
class FallbackStore final : public Store {
  public:
    FallbackStore(std::unique_ptr<Store> primary, std::unique_ptr<Store> fallback,
                  std::vector<std::string> users)
        : primary_(std::move(primary)), fallback_(std::move(fallback)), users_(std::move(users)) {}

    Result<std::unique_ptr<Record>> open(std::string_view user) override {
        Result<std::unique_ptr<Record>> record = primary_->open(user);
        if (record || record.error().code != Errc::unavailable || !is_break_glass(user))
            return record;
        return open_local(user, record.error());
    }
    Result<std::vector<std::string>> users() override { return primary_->users(); }

  private:
    // A local record stands in for the database's only if there is one. "Not enrolled"
    // would let nullok pass the password alone, and anyone on the network path can make
    // the database unreachable (a certificate that fails verification will do).
    Result<std::unique_ptr<Record>> open_local(std::string_view user, const Error& why) {
        const std::string name(user);
        Result<std::unique_ptr<Record>> local = fallback_->open(user);
        if (local && !(*local)->state()) {
            return make_error(Errc::unavailable,
                              why.message + "; break-glass user " + name + " has no local record");
        }
        ::syslog(LOG_AUTHPRIV | LOG_WARNING,
                 "pam_totp: %s; using the local file store for break-glass user %s",
                 why.message.c_str(), name.c_str());
        return local;
    }

    bool is_break_glass(std::string_view user) const {
        for (const std::string& name : users_) {
            if (name == user) return true;
        }
        return false;
    }

    std::unique_ptr<Store> primary_;
    std::unique_ptr<Store> fallback_;
    std::vector<std::string> users_;
};

// Stands in for a database store whose backend cannot be loaded, when there are break-glass
// users: every call fails as an unreachable database does (Errc::unavailable), so that they
// log in from their local records and everyone else fails closed with the reason.
class UnloadableStore final : public Store {
  public:
    explicit UnloadableStore(const Error& reason)
        : reason_(make_error(Errc::unavailable, reason.message)) {}

    Result<std::unique_ptr<Record>> open(std::string_view) override { return reason_; }
    Result<std::vector<std::string>> users() override { return reason_; }

  private:
    Error reason_;
};

// Reads the database settings, loads the backend and calls `call` with both: one of the
// functions of plugin_store.hpp.
template <class Call>
auto with_backend(const Settings& settings, Call call)
    -> decltype(call(std::declval<const totp_store_plugin_v1&>(),
                     std::declval<const totp_store_options&>())) {
    Result<PgStoreOptions> options = pg_options(settings);
    if (!options) return options.error();
    Result<const totp_store_plugin_v1*> backend = load_backend();
    if (!backend) return backend.error();
    return call(**backend, options->c_options());
}

// The database store for make_store(): with break-glass users, a backend that cannot be
// loaded (package not installed, unsafe file) is an unreachable database, not a reason to
// lock them out too. A bad key or password file still fails for everyone.
Result<std::unique_ptr<Store>> make_database_store(const Settings& settings, bool break_glass) {
    Result<PgStoreOptions> options = pg_options(settings);
    if (!options) return options.error();
    Result<const totp_store_plugin_v1*> backend = load_backend();
    if (backend) return open_plugin_store(**backend, options->c_options());
    if (!break_glass) return backend.error();
    return std::unique_ptr<Store>(std::make_unique<UnloadableStore>(backend.error()));
}

}  // namespace

Result<std::unique_ptr<Store>> make_files_store(const Settings& settings) {
    return make_file_store({.state_dir = settings.state_dir, .secret_path = settings.secret_path});
}

Result<std::unique_ptr<Store>> make_postgresql_store(const Settings& settings) {
    return with_backend(settings, open_plugin_store);
}

Result<std::unique_ptr<Store>> make_store(const Settings& settings) {
    if (settings.store == "files") return make_files_store(settings);
    if (settings.store != "postgresql") {
        return make_error(Errc::invalid_argument, "unknown store '" + settings.store + "'");
    }
    std::vector<std::string> break_glass = split_users(settings.store_fallback_users);
    Result<std::unique_ptr<Store>> database = make_database_store(settings, !break_glass.empty());
    if (!database) return database;
    if (break_glass.empty()) return database;
    Result<std::unique_ptr<Store>> files = make_files_store(settings);
    if (!files) return files;
    return std::unique_ptr<Store>(std::make_unique<FallbackStore>(
        std::move(*database), std::move(*files), std::move(break_glass)));
}

Result<std::unique_ptr<ResetTokenStore>> make_reset_token_store(const Settings& settings) {
    if (settings.store == "files") {
        return make_file_reset_token_store(
            {.state_dir = settings.state_dir, .secret_path = settings.secret_path});
    }
    if (settings.store != "postgresql") {
        return make_error(Errc::invalid_argument, "unknown store '" + settings.store + "'");
    }
    return with_backend(settings, open_plugin_reset_token_store);
}

Result<std::string> upgrade_postgresql_schema(const Settings& settings) {
    return with_backend(settings, upgrade_plugin_schema);
}

Result<std::string> check_postgresql_store(const Settings& settings) {
    return with_backend(settings, check_plugin_store);
}

}  // namespace totp
