// SPDX-License-Identifier: Apache-2.0
// Ownership across the boundary (store_plugin.h): the backend owns its store and record
// handles (closed here by RAII) and the block of user names (released with free_names);
// this side owns every buffer it passes, record bytes included, and wipes those.
#include "plugin_store.hpp"

#include <array>
#include <cstring>
#include <string_view>
#include <utility>
#include <vector>

#include "totp/secret.hpp"
#include "totp/store_plugin.hpp"
#include "totp/user_state.hpp"

namespace totp {
namespace {

// Room for the backend's messages; longer ones arrive cut.
constexpr std::size_t kMessageSize = 1024;

// The message buffer of one call. The backend writes a NUL-terminated line; the last byte is
// set here anyway, so a backend that does not terminate it cannot make us read past it.
class Message {
  public:
    char* data() { return text_.data(); }
    std::size_t size() const { return text_.size(); }
    std::string text() {
        text_.back() = '\0';
        return std::string(text_.data(), ::strnlen(text_.data(), text_.size()));
    }
    Error error(totp_store_status status) {
        std::string line = text();
        return make_error(to_errc(status), line.empty() ? "store backend failed" : line);
    }

  private:
    std::array<char, kMessageSize> text_{};
};

// Runs one backend call that takes the message buffer last.
template <class Call>
Status checked(Call&& call) {
    Message message;
    const totp_store_status status = call(message.data(), message.size());
    if (status == TOTP_STORE_OK) return {};
    return message.error(status);
}

using StoreHandle = std::shared_ptr<totp_store>;

Result<StoreHandle> open_handle(const totp_store_plugin_v1& api,
                                const totp_store_options& options) {
    totp_store* raw = nullptr;
    const Status opened =
        checked([&](char* err, std::size_t len) { return api.open(&options, &raw, err, len); });
    const totp_store_plugin_v1* table = &api;
    StoreHandle handle(raw, [table](totp_store* store) { table->close(store); });
    if (!opened) return opened.error();
    if (!handle) return make_error(Errc::io, "store backend returned no store");
    return handle;
}

Result<totp_store_reset_token> to_c(const ResetTokenEntry& entry) {
    totp_store_reset_token out{};
    if (entry.user.size() >= sizeof out.user || entry.user.find('\0') != std::string::npos) {
        return make_error(Errc::invalid_argument, "reset token: bad user name");
    }
    std::memcpy(out.user, entry.user.data(), entry.user.size());
    std::memcpy(out.verifier_hash, entry.verifier_hash.data(), sizeof out.verifier_hash);
    out.expires = entry.expires;
    return out;
}

ResetTokenEntry from_c(const totp_store_reset_token& entry) {
    ResetTokenEntry out;
    out.user.assign(entry.user, ::strnlen(entry.user, sizeof entry.user));
    std::memcpy(out.verifier_hash.data(), entry.verifier_hash, out.verifier_hash.size());
    out.expires = entry.expires;
    return out;
}

class PluginRecord final : public Record {
  public:
    PluginRecord(const totp_store_plugin_v1& api, StoreHandle store, totp_store_record* record)
        : api_(api), store_(std::move(store)), record_(record) {}
    ~PluginRecord() override { api_.record_close(record_); }
    PluginRecord(const PluginRecord&) = delete;
    PluginRecord& operator=(const PluginRecord&) = delete;

    // The bytes record_open() returned: none (not enrolled) or one slot of the state format.
    Status load(const SecretBytes& bytes, std::size_t size, std::string_view user) {
        if (size == 0) return {};
        if (size > bytes.size()) {
            return make_error(Errc::corrupt, "store backend: record of " + std::string(user) +
                                                 " does not fit its buffer");
        }
        Result<DecodedSlot> slot = decode_slot({reinterpret_cast<const char*>(bytes.data()), size});
        if (!slot) {
            return make_error(Errc::corrupt, "store backend: record of " + std::string(user) +
                                                 ": " + slot.error().message);
        }
        state_ = std::move(slot->state);
        return {};
    }

    const std::optional<UserState>& state() const override { return state_; }

    Status save(const UserState& state) override {
        Result<SecretString> bytes = encode_slot(state, 1);
        if (!bytes) return bytes.error();
        Status saved = checked([&](char* err, std::size_t len) {
            return api_.record_save(record_, reinterpret_cast<const std::uint8_t*>(bytes->c_str()),
                                    bytes->size(), err, len);
        });
        if (saved) state_ = state.clone();
        return saved;
    }

    Status remove() override {
        Status removed = checked(
            [&](char* err, std::size_t len) { return api_.record_remove(record_, err, len); });
        if (removed) state_.reset();
        return removed;
    }

  private:
    const totp_store_plugin_v1& api_;
    StoreHandle store_;  // records are closed before their store
    totp_store_record* record_;
    std::optional<UserState> state_;
};

class PluginStore final : public Store {
  public:
    PluginStore(const totp_store_plugin_v1& api, StoreHandle store)
        : api_(api), store_(std::move(store)) {}

    Result<std::unique_ptr<Record>> open(std::string_view user) override {
        SecretBytes bytes(TOTP_STORE_RECORD_MAX);
        std::size_t size = 0;
        totp_store_record* raw = nullptr;
        const Status opened = checked([&](char* err, std::size_t len) {
            return api_.record_open(store_.get(), user.data(), user.size(), &raw, bytes.data(),
                                    bytes.size(), &size, err, len);
        });
        auto record = std::make_unique<PluginRecord>(api_, store_, raw);
        if (!opened) return opened.error();
        if (raw == nullptr) return make_error(Errc::io, "store backend returned no record");
        if (Status loaded = record->load(bytes, size, user); !loaded) return loaded.error();
        return std::unique_ptr<Record>(std::move(record));
    }

    Result<bool> enrolled(std::string_view user) override {
        int found = 0;
        const Status asked = checked([&](char* err, std::size_t len) {
            return api_.enrolled(store_.get(), user.data(), user.size(), &found, err, len);
        });
        if (!asked) return asked.error();
        return found != 0;
    }

    Result<std::vector<std::string>> users() override {
        char* names = nullptr;
        std::size_t size = 0;
        const Status listed = checked([&](char* err, std::size_t len) {
            return api_.users(store_.get(), &names, &size, err, len);
        });
        const std::unique_ptr<char, void (*)(char*)> block(names, api_.free_names);
        if (!listed) return listed.error();
        if (size > 0 && (names == nullptr || names[size - 1] != '\0')) {
            return make_error(Errc::io, "store backend: malformed list of users");
        }
        std::vector<std::string> users;
        for (std::size_t at = 0; at < size;) {
            const std::string_view name(names + at);
            users.emplace_back(name);
            at += name.size() + 1;
        }
        return users;
    }

  private:
    const totp_store_plugin_v1& api_;
    StoreHandle store_;
};

class PluginResetTokenStore final : public ResetTokenStore {
  public:
    PluginResetTokenStore(const totp_store_plugin_v1& api, StoreHandle store)
        : api_(api), store_(std::move(store)) {}

    Status put_reset_token(std::string_view selector, const ResetTokenEntry& entry) override {
        Result<totp_store_reset_token> c_entry = to_c(entry);
        if (!c_entry) return c_entry.error();
        return checked([&](char* err, std::size_t len) {
            return api_.put_reset_token(store_.get(), selector.data(), selector.size(), &*c_entry,
                                        err, len);
        });
    }

    Result<ResetTokenEntry> find_reset_token(std::string_view selector) override {
        return token_call(selector, api_.find_reset_token);
    }

    Result<ResetTokenEntry> take_reset_token(std::string_view selector) override {
        return token_call(selector, api_.take_reset_token);
    }

    Status drop_reset_tokens(std::string_view user) override {
        return checked([&](char* err, std::size_t len) {
            return api_.drop_reset_tokens(store_.get(), user.data(), user.size(), err, len);
        });
    }

    Status prune_reset_tokens(std::int64_t now) override {
        return checked([&](char* err, std::size_t len) {
            return api_.prune_reset_tokens(store_.get(), now, err, len);
        });
    }

  private:
    using TokenCall = totp_store_status (*)(totp_store*, const char*, std::size_t,
                                            totp_store_reset_token*, char*, std::size_t);

    Result<ResetTokenEntry> token_call(std::string_view selector, TokenCall call) {
        totp_store_reset_token entry{};
        const Status done = checked([&](char* err, std::size_t len) {
            return call(store_.get(), selector.data(), selector.size(), &entry, err, len);
        });
        if (!done) return done.error();
        return from_c(entry);
    }

    const totp_store_plugin_v1& api_;
    StoreHandle store_;
};

}  // namespace

std::optional<std::string> plugin_table_fault(const totp_store_plugin_v1* table) {
    if (table == nullptr) return "returned no interface table";
    if (table->abi_version != TOTP_STORE_PLUGIN_ABI_VERSION) {
        return "has interface version " + std::to_string(table->abi_version) +
               ", this build needs version " + std::to_string(TOTP_STORE_PLUGIN_ABI_VERSION);
    }
    if (table->struct_size < sizeof(totp_store_plugin_v1)) {
        return "has an interface table of " + std::to_string(table->struct_size) +
               " bytes, this build needs " + std::to_string(sizeof(totp_store_plugin_v1));
    }
    const bool complete = table->open && table->close && table->record_open && table->record_save &&
                          table->record_remove && table->record_close && table->enrolled &&
                          table->users && table->free_names && table->put_reset_token &&
                          table->find_reset_token && table->take_reset_token &&
                          table->drop_reset_tokens && table->prune_reset_tokens &&
                          table->upgrade_schema && table->check_store;
    if (!complete) return "has an incomplete interface table";
    return std::nullopt;
}

Result<std::unique_ptr<Store>> open_plugin_store(const totp_store_plugin_v1& api,
                                                 const totp_store_options& options) {
    Result<StoreHandle> handle = open_handle(api, options);
    if (!handle) return handle.error();
    return std::unique_ptr<Store>(std::make_unique<PluginStore>(api, std::move(*handle)));
}

Result<std::unique_ptr<ResetTokenStore>> open_plugin_reset_token_store(
    const totp_store_plugin_v1& api, const totp_store_options& options) {
    Result<StoreHandle> handle = open_handle(api, options);
    if (!handle) return handle.error();
    return std::unique_ptr<ResetTokenStore>(
        std::make_unique<PluginResetTokenStore>(api, std::move(*handle)));
}

Result<std::string> upgrade_plugin_schema(const totp_store_plugin_v1& api,
                                          const totp_store_options& options) {
    Message message;
    const totp_store_status status = api.upgrade_schema(&options, message.data(), message.size());
    if (status != TOTP_STORE_OK) return message.error(status);
    return message.text();
}

Result<std::string> check_plugin_store(const totp_store_plugin_v1& api,
                                       const totp_store_options& options) {
    Message message;
    const totp_store_status status = api.check_store(&options, message.data(), message.size());
    if (status != TOTP_STORE_OK) return message.error(status);
    return message.text();
}

}  // namespace totp
