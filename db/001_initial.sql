-- SPDX-License-Identifier: Apache-2.0
-- pam_totp fleet store, schema version 1. Applied by `totp-enroll db-upgrade`, which
-- records the version in pam_totp_schema; the PAM module only reads and writes rows.
--
-- secret and recovery are AES-256-GCM ciphertexts (12-byte nonce || ciphertext ||
-- 16-byte tag) under the key in store_key_file, bound to the user name (and, for the
-- secret, the OTP parameters) so that rows cannot be swapped between users.
CREATE TABLE pam_totp_schema (
    version integer NOT NULL
);

CREATE TABLE pam_totp_users (
    username       text PRIMARY KEY,
    algorithm      text NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
    digits         smallint NOT NULL CHECK (digits BETWEEN 6 AND 8),
    period         smallint NOT NULL CHECK (period BETWEEN 15 AND 300),
    secret         bytea NOT NULL,
    last_step      bigint CHECK (last_step >= 0),
    failures       integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    locked_until   bigint NOT NULL DEFAULT 0,
    recovery       bytea NOT NULL,
    created        bigint NOT NULL,
    email          text NOT NULL DEFAULT '',
    email_verified boolean NOT NULL DEFAULT false,
    updated        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE pam_totp_reset_tokens (
    selector      text PRIMARY KEY,
    username      text NOT NULL,
    verifier_hash bytea NOT NULL CHECK (length(verifier_hash) = 32),
    expires       bigint NOT NULL
);
CREATE INDEX pam_totp_reset_tokens_username ON pam_totp_reset_tokens (username);
CREATE INDEX pam_totp_reset_tokens_expires ON pam_totp_reset_tokens (expires);
