-- SPDX-License-Identifier: Apache-2.0
-- Schema version 2: the count of verification mails `totp-enroll email` sent for a user
-- since email_mails_since (Unix time), kept with the record so that the per-user limit
-- holds on every server of the fleet. Rows written before it count none.
ALTER TABLE pam_totp_users
    ADD COLUMN email_mails integer NOT NULL DEFAULT 0
        CHECK (email_mails BETWEEN 0 AND 1000),
    ADD COLUMN email_mails_since bigint NOT NULL DEFAULT 0
        CHECK (email_mails_since >= 0);
