#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fails when the documentation drifts from the settings the code accepts: every [global]
# key (as the code lists them: print_setting_names global) must have an entry in
# docs/pam_totp.conf.5 (a ".TP" item whose tag line is ".B key") and a line "#key =" or
# "key =" in config/pam_totp.conf, and every such entry must name a real key.
#
# Usage: check_config_keys.sh PRINT_SETTING_NAMES SOURCE_DIR
set -eu

names=$1
root=$2
manpage=$root/docs/pam_totp.conf.5
conffile=$root/config/pam_totp.conf

for file in "$manpage" "$conffile"; do
    [ -r "$file" ] || { echo "cannot read $file" >&2; exit 2; }
done

code_keys=$("$names" global | sort -u)
if [ -z "$code_keys" ]; then
    echo "$names listed no keys" >&2
    exit 2
fi

# Tag lines of .TP items in the [global] part of the man page.
man_keys=$(awk '
    /^\.SH/ { in_global = ($0 ~ /\[global\]/) }
    in_global && previous == ".TP" && $1 == ".B" { print $2 }
    { previous = $0 }
' "$manpage" | sort -u)

conf_keys=$(awk '
    /^\[/ { in_global = ($0 == "[global]") }
    in_global && /^#?[a-z_]+ *=/ { sub(/^#/, ""); sub(/ *=.*/, ""); print }
' "$conffile" | sort -u)

status=0
# report <description> <keys> <documented keys>: lists the first set's keys missing from the second.
report() {
    missing=$(printf '%s\n' "$2" | while read -r key; do
        printf '%s\n' "$3" | grep -qxF -- "$key" || printf ' %s' "$key"
    done)
    if [ -n "$missing" ]; then
        echo "$1:$missing" >&2
        status=1
    fi
}
report "keys missing from $manpage" "$code_keys" "$man_keys"
report "keys missing from $conffile" "$code_keys" "$conf_keys"
report "unknown keys documented in $manpage" "$man_keys" "$code_keys"
report "unknown keys in $conffile" "$conf_keys" "$code_keys"

if [ "$status" -eq 0 ]; then
    echo "all $(echo "$code_keys" | wc -l) settings documented"
fi
exit "$status"
