#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# rollout-conffile.sh SOURCE DEST: writes the /etc/security/pam_totp.conf the packages ship:
# config/pam_totp.conf with "nullok = yes" switched on, so that installing the packages (and
# pam-auth-update adding pam_totp to common-auth) locks nobody out: users who have not
# enrolled yet are let through; enrolled users are asked for their code. The admin enforces
# two factors for everyone by changing that one line to "nullok = no".
# Both packagings (debian/rules, rpm/pam_totp.spec) call this, so they ship the same file.
set -eu
source=$1 dest=$2
if [ "$(grep -c '^#nullok = no$' "$source")" -ne 1 ]; then
    echo "rollout-conffile: $source has no single '#nullok = no' line to switch on" >&2
    exit 1
fi
awk '
    $0 == "#nullok = no" {
        print "# On as installed, so that installing the package locks nobody out. Once every"
        print "# account that logs in has enrolled (totp-enroll), require a code from everyone:"
        print "#   nullok = no"
        print "nullok = yes"
        next
    }
    { print }
' "$source" >"$dest.tmp"
chmod 0644 "$dest.tmp"
mv "$dest.tmp" "$dest"
