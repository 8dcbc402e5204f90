/* SPDX-License-Identifier: Apache-2.0 */
/* The interface between the store factory (core/src/store_factory.cpp) and a store backend
 * it loads with dlopen (pam_totp_store_pg.so). Plain C: the backend and its caller each
 * carry their own copy of the C++ runtime, so nothing of C++ crosses (no std::string, no
 * object, no exception), and a backend can be built with another compiler or runtime.
 *
 * The backend exports one symbol, TOTP_STORE_PLUGIN_ENTRY, a function returning a pointer
 * to a static table. Every version of the table starts with abi_version and struct_size;
 * the caller refuses a table whose abi_version is not the one it was built for, or whose
 * struct_size is smaller than the table it knows.
 *
 * Calls return a totp_store_status. On failure they write a one-line, NUL-terminated
 * message into the caller's `err` buffer (cut to `errlen` bytes), never a secret. No
 * function may be called with a handle another function has closed. A store handle may be
 * used by several threads at once; a record handle by one at a time. */
#ifndef TOTP_STORE_PLUGIN_H
#define TOTP_STORE_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TOTP_STORE_PLUGIN_ABI_VERSION 1u
#define TOTP_STORE_PLUGIN_ENTRY "totp_store_plugin_entry"

/* Mirrors totp::Errc (core/include/totp/result.hpp), shifted by one so that 0 is success.
 * A value the caller does not know counts as TOTP_STORE_IO. */
enum totp_store_status {
    TOTP_STORE_OK = 0,
    TOTP_STORE_INVALID_ARGUMENT = 1,
    TOTP_STORE_NOT_FOUND = 2,
    TOTP_STORE_UNSAFE = 3,
    TOTP_STORE_CORRUPT = 4,
    TOTP_STORE_IO = 5,
    TOTP_STORE_UNAVAILABLE = 6, /* no connection within the timeout: break-glass may apply */
    TOTP_STORE_BUSY = 7,
    TOTP_STORE_UNSUPPORTED = 8,
    TOTP_STORE_NOT_PERMITTED = 9,
    TOTP_STORE_CANCELLED = 10
};

/* What a backend needs to connect. Every pointer is the caller's and only valid during
 * the call: the backend copies what it keeps (and wipes its copy of the password and key
 * when it closes). */
struct totp_store_options {
    const char* dsn;      /* NUL-terminated */
    const char* password; /* NUL-terminated; "" for none */
    const uint8_t* key;   /* the record encryption key */
    size_t key_len;
    int connect_timeout; /* seconds */
};

/* The longest valid user name (totp::kMaxUsernameLength), plus its NUL. */
#define TOTP_STORE_USER_MAX 257

/* One stored reset token (totp::ResetTokenEntry); filled in by the caller or the backend,
 * in memory the caller owns. */
struct totp_store_reset_token {
    char user[TOTP_STORE_USER_MAX]; /* NUL-terminated */
    uint8_t verifier_hash[32];
    int64_t expires; /* Unix time */
};

/* The longest serialized record: one slot of the state file format (docs/state-format.md,
 * totp::kSlotSize). */
#define TOTP_STORE_RECORD_MAX 8192

typedef struct totp_store totp_store;               /* a backend's connection settings */
typedef struct totp_store_record totp_store_record; /* one user's record, locked */

/* Records cross as serialized bytes: one slot of the state file format (checksummed text,
 * padded with newlines), which holds the TOTP secret. The caller owns every record buffer
 * in both directions and wipes it after use; the backend wipes its own copies. User names
 * and selectors are passed as pointer and length (not NUL-terminated). */
struct totp_store_plugin_v1 {
    uint32_t abi_version; /* TOTP_STORE_PLUGIN_ABI_VERSION */
    size_t struct_size;   /* sizeof(struct totp_store_plugin_v1) as the backend was built */

    /* Checks the options and keeps a copy; connects later, on first use. *out is the
     * backend's, released only by close(). */
    enum totp_store_status (*open)(const struct totp_store_options* options, totp_store** out,
                                   char* err, size_t errlen);
    /* Releases a store and everything it holds; NULL is ignored. Records it opened must be
     * closed first. */
    void (*close)(totp_store* store);

    /* Login records. Opens and locks one user's record until record_close(). The record as
     * stored is written to `state` (capacity `state_cap`, at least TOTP_STORE_RECORD_MAX)
     * and its length to *state_len; 0 means the user is not enrolled. */
    enum totp_store_status (*record_open)(totp_store* store, const char* user, size_t user_len,
                                          totp_store_record** out, uint8_t* state, size_t state_cap,
                                          size_t* state_len, char* err, size_t errlen);
    /* Replaces the record with `state` (serialized as above); durable on success. */
    enum totp_store_status (*record_save)(totp_store_record* record, const uint8_t* state,
                                          size_t state_len, char* err, size_t errlen);
    /* Deletes the record durably. */
    enum totp_store_status (*record_remove)(totp_store_record* record, char* err, size_t errlen);
    /* Unlocks and releases a record (abandoning what was not saved); NULL is ignored. */
    void (*record_close)(totp_store_record* record);
    /* Whether the user has a record: *out is 1 or 0. */
    enum totp_store_status (*enrolled)(totp_store* store, const char* user, size_t user_len,
                                       int* out, char* err, size_t errlen);
    /* Enrolled users, sorted: *names receives a block of *size bytes, each name followed by
     * a NUL. The block is the backend's: release it with free_names() (NULL is ignored). */
    enum totp_store_status (*users)(totp_store* store, char** names, size_t* size, char* err,
                                    size_t errlen);
    void (*free_names)(char* names);

    /* Reset tokens, as totp::ResetTokenStore. */
    enum totp_store_status (*put_reset_token)(totp_store* store, const char* selector,
                                              size_t selector_len,
                                              const struct totp_store_reset_token* entry, char* err,
                                              size_t errlen);
    enum totp_store_status (*find_reset_token)(totp_store* store, const char* selector,
                                               size_t selector_len,
                                               struct totp_store_reset_token* out, char* err,
                                               size_t errlen);
    enum totp_store_status (*take_reset_token)(totp_store* store, const char* selector,
                                               size_t selector_len,
                                               struct totp_store_reset_token* out, char* err,
                                               size_t errlen);
    enum totp_store_status (*drop_reset_tokens)(totp_store* store, const char* user,
                                                size_t user_len, char* err, size_t errlen);
    enum totp_store_status (*prune_reset_tokens)(totp_store* store, int64_t now, char* err,
                                                 size_t errlen);

    /* Creates the schema or upgrades it to the backend's version. On success a one-line
     * description of what was done is written to `err` (it serves as the message buffer
     * both ways). */
    enum totp_store_status (*upgrade_schema)(const struct totp_store_options* options, char* err,
                                             size_t errlen);

    /* Connects and reports on the database for totp-check --store: one line per item
     * (schema version, the role's privileges, the connection's TLS, round-trip time), each
     * starting with "ok: " or "finding: ", written to `err` (the message buffer both ways,
     * as above). Fails only when it cannot connect or read. */
    enum totp_store_status (*check_store)(const struct totp_store_options* options, char* err,
                                          size_t errlen);
};

/* The type of TOTP_STORE_PLUGIN_ENTRY. Never NULL; the table lives as long as the backend
 * stays loaded. */
typedef const struct totp_store_plugin_v1* totp_store_plugin_entry_fn(void);
totp_store_plugin_entry_fn totp_store_plugin_entry;

#ifdef __cplusplus
}
#endif

#endif /* TOTP_STORE_PLUGIN_H */
