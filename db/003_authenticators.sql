-- SPDX-License-Identifier: Apache-2.0
-- Schema version 3: every authenticator of a user (several phone apps, HOTP hardware
-- tokens), each with its own secret and replay state (last TOTP step or next HOTP counter,
-- clock offset, last use). The column holds the authenticator lines of
-- docs/state-format.md, one per line, sealed with AES-256-GCM under store_key_file and
-- bound to the user name like the secret column. The columns algorithm .. last_step keep
-- describing the first authenticator. Rows written before have NULL here: their one TOTP
-- authenticator is those columns, read as "default" and written here on the next update.
ALTER TABLE pam_totp_users
    ADD COLUMN authenticators bytea;
