// SPDX-License-Identifier: Apache-2.0
// The backend's side of store_plugin.h: its C functions over the PostgreSQL store, and the
// one exported symbol. No exception leaves them: each catches everything and fails closed
// with "internal error" (the backend and its caller each carry their own copy of the C++
// runtime, and an exception must not unwind from one copy's frames into the other's).
// Record bytes are copied into or read from the caller's buffers; the copies made here
// (SecretString, UserState) wipe themselves.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pg_store.hpp"
#include "totp/store_plugin.hpp"
#include "totp/user_state.hpp"

// The handles the C side sees as opaque.
struct totp_store {
    std::unique_ptr<totp::pg::DatabaseStore> store;
};

struct totp_store_record {
    std::unique_ptr<totp::Record> record;
};

namespace totp::pg {
namespace {

// Writes `text` into the caller's buffer, cut to fit, NUL-terminated.
void write_message(std::string_view text, char* out, std::size_t size) noexcept {
    if (out == nullptr || size == 0) return;
    const std::size_t length = std::min(text.size(), size - 1);
    std::memcpy(out, text.data(), length);
    out[length] = '\0';
}

// Runs `call`, which returns a Status; its error, or any exception, becomes the status
// and the message.
template <class Call>
totp_store_status guarded(char* err, std::size_t errlen, Call&& call) noexcept {
    try {
        const Status done = call();
        if (done) return TOTP_STORE_OK;
        write_message(done.error().message, err, errlen);
        return to_store_status(done.error().code);
    } catch (...) {
        write_message("internal error", err, errlen);
        return TOTP_STORE_IO;
    }
}

Result<Options> from_c(const totp_store_options* options) {
    if (options == nullptr || options->dsn == nullptr || options->password == nullptr ||
        options->key == nullptr) {
        return make_error(Errc::invalid_argument, "store options incomplete");
    }
    if (options->key_len != kStoreKeyBytes) {
        return make_error(Errc::invalid_argument, "store key must be 32 bytes");
    }
    Options out;
    out.dsn = options->dsn;
    out.password = SecretString(options->password);
    out.key = SecretBytes(options->key, options->key_len);
    out.connect_timeout = options->connect_timeout;
    return out;
}

Status copy_out(const ResetTokenEntry& entry, totp_store_reset_token* out) {
    if (entry.user.size() >= sizeof out->user || entry.user.find('\0') != std::string::npos) {
        return make_error(Errc::corrupt, "database reset token: bad user name");
    }
    *out = {};
    std::memcpy(out->user, entry.user.data(), entry.user.size());
    std::memcpy(out->verifier_hash, entry.verifier_hash.data(), sizeof out->verifier_hash);
    out->expires = entry.expires;
    return {};
}

totp_store_status open_store(const totp_store_options* options, totp_store** out, char* err,
                             std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        *out = nullptr;
        Result<Options> parsed = from_c(options);
        if (!parsed) return parsed.error();
        auto store = std::make_unique<totp_store>();
        store->store = make_database_store(*parsed);
        *out = store.release();
        return {};
    });
}

void close_store(totp_store* store) noexcept {
    const std::unique_ptr<totp_store> owned(store);
}

totp_store_status record_open(totp_store* store, const char* user, std::size_t user_len,
                              totp_store_record** out, std::uint8_t* state, std::size_t state_cap,
                              std::size_t* state_len, char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        *out = nullptr;
        *state_len = 0;
        Result<std::unique_ptr<Record>> record = store->store->open({user, user_len});
        if (!record) return record.error();
        if (const std::optional<UserState>& current = (*record)->state()) {
            Result<SecretString> bytes = encode_slot(*current, 1);
            if (!bytes) return bytes.error();
            if (bytes->size() > state_cap) {
                return make_error(Errc::invalid_argument, "record buffer too small");
            }
            std::memcpy(state, bytes->c_str(), bytes->size());
            *state_len = bytes->size();
        }
        auto handle = std::make_unique<totp_store_record>();
        handle->record = std::move(*record);
        *out = handle.release();
        return {};
    });
}

totp_store_status record_save(totp_store_record* record, const std::uint8_t* state,
                              std::size_t state_len, char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        Result<DecodedSlot> slot = decode_slot({reinterpret_cast<const char*>(state), state_len});
        if (!slot) {
            return make_error(Errc::invalid_argument,
                              "record to save does not decode: " + slot.error().message);
        }
        return record->record->save(slot->state);
    });
}

totp_store_status record_remove(totp_store_record* record, char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&] { return record->record->remove(); });
}

void record_close(totp_store_record* record) noexcept {
    const std::unique_ptr<totp_store_record> owned(record);
}

totp_store_status enrolled(totp_store* store, const char* user, std::size_t user_len, int* out,
                           char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        Result<bool> found = store->store->enrolled({user, user_len});
        if (!found) return found.error();
        *out = *found ? 1 : 0;
        return {};
    });
}

totp_store_status users(totp_store* store, char** names, std::size_t* size, char* err,
                        std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        *names = nullptr;
        *size = 0;
        Result<std::vector<std::string>> listed = store->store->users();
        if (!listed) return listed.error();
        std::size_t total = 0;
        for (const std::string& name : *listed) total += name.size() + 1;
        if (total == 0) return {};
        // The C interface hands the block over; free_names() gives it back.
        char* block = static_cast<char*>(std::malloc(total));
        if (block == nullptr) return make_error(Errc::io, "out of memory");
        char* at = block;
        for (const std::string& name : *listed) {
            std::memcpy(at, name.c_str(), name.size() + 1);
            at += name.size() + 1;
        }
        *names = block;
        *size = total;
        return {};
    });
}

void free_names(char* names) noexcept {
    std::free(names);
}

totp_store_status put_reset_token(totp_store* store, const char* selector, std::size_t selector_len,
                                  const totp_store_reset_token* entry, char* err,
                                  std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        ResetTokenEntry stored;
        stored.user.assign(entry->user, ::strnlen(entry->user, sizeof entry->user));
        std::memcpy(stored.verifier_hash.data(), entry->verifier_hash, stored.verifier_hash.size());
        stored.expires = entry->expires;
        return store->store->put_reset_token({selector, selector_len}, stored);
    });
}

// find_reset_token and take_reset_token: the same but for the store call.
template <Result<ResetTokenEntry> (ResetTokenStore::*Call)(std::string_view)>
totp_store_status token_out(totp_store* store, const char* selector, std::size_t selector_len,
                            totp_store_reset_token* out, char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        Result<ResetTokenEntry> entry = (store->store.get()->*Call)({selector, selector_len});
        if (!entry) return entry.error();
        return copy_out(*entry, out);
    });
}

totp_store_status drop_reset_tokens(totp_store* store, const char* user, std::size_t user_len,
                                    char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&] { return store->store->drop_reset_tokens({user, user_len}); });
}

totp_store_status prune_reset_tokens(totp_store* store, std::int64_t now, char* err,
                                     std::size_t errlen) noexcept {
    return guarded(err, errlen, [&] { return store->store->prune_reset_tokens(now); });
}

totp_store_status upgrade(const totp_store_options* options, char* err,
                          std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        Result<Options> parsed = from_c(options);
        if (!parsed) return parsed.error();
        Result<std::string> done = upgrade_schema(*parsed);
        if (!done) return done.error();
        write_message(*done, err, errlen);
        return {};
    });
}

totp_store_status check(const totp_store_options* options, char* err, std::size_t errlen) noexcept {
    return guarded(err, errlen, [&]() -> Status {
        Result<Options> parsed = from_c(options);
        if (!parsed) return parsed.error();
        Result<std::string> report = check_store(*parsed);
        if (!report) return report.error();
        write_message(*report, err, errlen);
        return {};
    });
}

constexpr totp_store_plugin_v1 kPlugin{
    .abi_version = TOTP_STORE_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(totp_store_plugin_v1),
    .open = open_store,
    .close = close_store,
    .record_open = record_open,
    .record_save = record_save,
    .record_remove = record_remove,
    .record_close = record_close,
    .enrolled = enrolled,
    .users = users,
    .free_names = free_names,
    .put_reset_token = put_reset_token,
    .find_reset_token = token_out<&ResetTokenStore::find_reset_token>,
    .take_reset_token = token_out<&ResetTokenStore::take_reset_token>,
    .drop_reset_tokens = drop_reset_tokens,
    .prune_reset_tokens = prune_reset_tokens,
    .upgrade_schema = upgrade,
    .check_store = check,
};

}  // namespace
}  // namespace totp::pg

// The one symbol the backend exports (exports.map).
const totp_store_plugin_v1* totp_store_plugin_entry() {
    return &totp::pg::kPlugin;
}
