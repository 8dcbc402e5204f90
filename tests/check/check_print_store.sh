#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# totp-check --print-store prints the store the module runs with, read by the module's own
# loader: one word on stdout and exit 0, or, when the module cannot use the file, nothing on
# stdout, one line on stderr and exit 3 (remove-check relies on exactly this).
#   check_print_store.sh TOTP_CHECK
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
tool=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
umask 022
mkdir -p "$root/etc/security"
conf=$root/etc/security/pam_totp.conf

# query [ARGS]: sets out (stdout), err (stderr) and rc.
query() { capture "$tool" --root "$root" --print-store "$@"; }

query
check "no config file: files (the built-in default), exit 0" test "$rc" -eq 0 -a "$out" = files -a -z "$err"
printf '%s\n' '[ GLOBAL ]' 'Store = "postgresql" ; the fleet' >"$conf"
query
check "[ GLOBAL ] Store = \"postgresql\" ; comment: postgresql" test "$rc" -eq 0 -a "$out" = postgresql
printf '%s\n' '[global]' 'store = files' >"$root/etc/security/other.conf"
query --config /etc/security/other.conf
check "--config reads that file under the root: files" test "$rc" -eq 0 -a "$out" = files

query --config /etc/security/missing.conf
check "--config naming a missing file (a config= the module refuses): exit 3" test "$rc" -eq 3 -a -z "$out"
check_output "  one line on stderr saying why" "missing.conf: No such file or directory" "$err"
check "  only one" test "$(wc -l <<<"$err")" -eq 1
query --config relative.conf
check "a relative --config (the module refuses it): exit 3" test "$rc" -eq 3
chmod 0664 "$conf"
query
check "a group-writable config: exit 3" test "$rc" -eq 3 -a -z "$out"
check_output "  saying so" "writable by group or other" "$err"
printf '%s\n' '[global]' '[reset]' 'store = postgresql' >"$conf"
chmod 0644 "$conf"
query
check "store in [reset] (a misplaced key): exit 3" test "$rc" -eq 3
check_output "  saying so" "'store' belongs in [global], not [reset]" "$err"
printf '%s\n' '[global]' 'store = postgresql' >"$conf"
printf 'maybe\n' >"$root/etc/security/pam_totp.rollout"
query
check "a rollout file the module refuses: exit 3" test "$rc" -eq 3

out=$("$tool" --config /etc/security/other.conf 2>&1)
check "--config without --print-store is a usage error (2)" test $? -eq 2
out=$("$tool" --print-store --json 2>&1)
check "--print-store with --json is a usage error (2)" test $? -eq 2
finish
