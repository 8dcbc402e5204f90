#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when the documentation of totp-resetd's settings drifts from the code: every key
# the service accepts (as the code lists them: print_setting_names reset) has a
# ".TP"/".B key" entry in the "Reset service" part of docs/pam_totp.conf.5 and a "#key ="
# line in config/pam_totp.conf, and every key documented there is real.
#
# Usage: check_reset_keys.sh PRINT_SETTING_NAMES SOURCE_DIR
set -eu
names=$1
root=$2
manpage=$root/docs/pam_totp.conf.5
conffile=$root/config/pam_totp.conf

code_keys=$("$names" reset | sort -u)
if [ -z "$code_keys" ]; then
    echo "$names listed no keys" >&2
    exit 2
fi
man_keys=$(awk '
    /^\.S[SH]/ { in_part = ($0 ~ /Reset service/) }
    in_part && previous == ".TP" && $1 == ".B" { print $2 }
    { previous = $0 }
' "$manpage" | sort -u)
conf_keys=$(awk '
    /^# --- / { in_part = ($0 ~ /Reset service/) }
    in_part && /^#?[a-z_]+ *=/ { sub(/^#/, ""); sub(/ *=.*/, ""); print }
' "$conffile" | sort -u)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s\n' "$code_keys" >"$tmp/code"
status=0
# compare FILE DOCUMENTED_KEYS
compare() {
    printf '%s\n' "$2" >"$tmp/documented"
    missing=$(comm -23 "$tmp/code" "$tmp/documented" | tr '\n' ' ')
    unknown=$(comm -13 "$tmp/code" "$tmp/documented" | tr '\n' ' ')
    if [ -n "$missing" ]; then
        echo "missing from $1: $missing" >&2
        status=1
    fi
    if [ -n "$unknown" ]; then
        echo "unknown keys in $1: $unknown" >&2
        status=1
    fi
}
compare "$manpage" "$man_keys"
compare "$conffile" "$conf_keys"
if [ "$status" -eq 0 ]; then
    echo "all $(echo "$code_keys" | wc -l) reset settings documented"
fi
exit "$status"
