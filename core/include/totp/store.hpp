// SPDX-License-Identifier: Apache-2.0
// The per-user state store and the reset-token store. Programs talk only to these
// interfaces; the file store is the default backend of both, the PostgreSQL store
// (store_pg/, behind store_factory.hpp) the fleet backend.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "totp/result.hpp"
#include "totp/user_state.hpp"

namespace totp {

// One user's record with an exclusive lock held from open until destruction, so a
// read-check-write sequence cannot interleave with another login or tool.
class Record {
  public:
    virtual ~Record() = default;

    // nullopt: the user is not enrolled.
    virtual const std::optional<UserState>& state() const = 0;

    // Replaces the record (creating it if the user was not enrolled). On success the new
    // state is durable; on failure the previous state is intact.
    virtual Status save(const UserState& state) = 0;

    // Deletes the record durably.
    virtual Status remove() = 0;
};

// What the store keeps of one password-reset token (see reset_token.hpp): never the token
// itself, only the SHA-256 of its secret half, so a copy of the store opens no account.
struct ResetTokenEntry {
    std::string user;
    std::array<std::uint8_t, 32> verifier_hash{};
    std::int64_t expires = 0;  // Unix time
};

// Login state: what the PAM module, totp-enroll and totp-resetd read and change per user.
class Store {
  public:
    virtual ~Store() = default;

    // Validates the name, opens and locks the record. Errors: Errc::unsafe (bad name,
    // symlink, wrong owner/mode), Errc::corrupt (unreadable record), Errc::busy (another
    // process held the lock past the deadline, see file_lock.hpp), Errc::not_permitted (a
    // caller that is not root was denied the record or its directory), Errc::io.
    virtual Result<std::unique_ptr<Record>> open(std::string_view user) = 0;

    // Whether the user has a record, for deciding whether to ask for a code at all. A
    // quick look that need not validate the record (open() does that, and fails closed):
    // true may still be followed by an error from open(). Errors as for open().
    virtual Result<bool> enrolled(std::string_view user) {
        Result<std::unique_ptr<Record>> record = open(user);
        if (!record) return record.error();
        return (*record)->state().has_value();
    }

    // Enrolled users, sorted (for admin listings).
    virtual Result<std::vector<std::string>> users() = 0;
};

// Password-reset tokens, apart from login state: only totp-resetd (which issues and uses
// them) and totp-enroll (which drops a user's links when the address changes) need them,
// so the PAM module never holds a store that can change them.
class ResetTokenStore {
  public:
    virtual ~ResetTokenStore() = default;

    // Tokens are named by their selector (kResetSelectorHexLength lowercase hex
    // digits; anything else is Errc::invalid_argument). Every change is durable before the
    // call returns. Expiry is the caller's decision: entries are returned as stored.
    //
    // Stores a new entry; Errc::busy if the selector is taken.
    virtual Status put_reset_token(std::string_view selector, const ResetTokenEntry& entry) = 0;
    // Reads an entry without using it up. Errc::not_found if there is none.
    virtual Result<ResetTokenEntry> find_reset_token(std::string_view selector) = 0;
    // Removes the entry and returns it; of concurrent callers exactly one gets it, the others
    // Errc::not_found.
    virtual Result<ResetTokenEntry> take_reset_token(std::string_view selector) = 0;
    // Removes every entry of the user (after a password change or a change of address).
    virtual Status drop_reset_tokens(std::string_view user) = 0;
    // Removes every entry that expired before `now`.
    virtual Status prune_reset_tokens(std::int64_t now) = 0;
};

struct FileStoreOptions {
    // Default layout: <state_dir>/<user>, directory root's, 0700 or search-only for group
    // and other (0711), files 0600 root. Reset tokens live in <state_dir>/.reset-tokens/
    // (0700, files 0600 root) in both layouts.
    std::string state_dir = "/var/lib/pam_totp";
    // Home layout when non-empty: a path template where a leading "~/" is the user's home
    // and "%u" the user name. Accessed with the user's filesystem identity; the file must
    // be owned by the user and not accessible by group or other.
    std::string secret_path;
};

std::unique_ptr<Store> make_file_store(const FileStoreOptions& options);
// The reset tokens of the file store with the same options (only state_dir matters).
std::unique_ptr<ResetTokenStore> make_file_reset_token_store(const FileStoreOptions& options);

}  // namespace totp
