#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# totp-check --print-pam-lines lists every pam_totp line libpam may read, as libpam reads it
# (continued lines joined, "[...]" one argument, includes by path or in a subdirectory,
# pam.conf, every type), one "FILE:LINE: MODULE ARG..." line each with unusual bytes as
# \ooo; and exits 3 when a file or an include cannot be read (remove-check relies on this).
#   check_print_pam_lines.sh TOTP_CHECK
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
tool=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/etc/pam.d/site" "$root/etc/security" "$root/usr/lib/pam.d"

# query: sets out (stdout), err (stderr) and rc.
query() { capture "$tool" --root "$root" --print-pam-lines; }

printf '%s\n' 'auth required pam_unix.so' 'auth required pam_totp.so nullok \' '  store=postgresql' \
    'session optional pam_totp.so [config=/etc/a b.conf]' '@include /etc/security/2fa' \
    'auth substack site/2fa' '@include common-auth' >"$root/etc/pam.d/sshd"
printf '%s\n' 'account required /lib/security/pam_totp.so x' >"$root/etc/security/2fa"
printf '%s\n' 'auth required pam_totp.so' >"$root/etc/pam.d/site/2fa"
printf '%s\n' 'auth required pam_totp.so # pam_totp.so config=/x' >"$root/etc/pam.d/common-auth"
printf '%s\n' 'auth required pam_totp.so' >"$root/etc/pam.d/$(printf 'a\nb')"
printf '%s\n' 'auth required pam_totp.so vendor' >"$root/usr/lib/pam.d/vlock"
printf '%s\n' 'login auth required pam_totp.so conf' 'login auth required pam_unix.so' >"$root/etc/pam.conf"
query
check "every file read: exit 0, nothing on stderr" test "$rc" -eq 0 -a -z "$err"
check_output "a continued line joined" "/etc/pam.d/sshd:2: pam_totp.so nullok store=postgresql" "$out"
check_output "a bracketed argument as one, its space escaped" \
    '/etc/pam.d/sshd:4: pam_totp.so config=/etc/a\040b.conf' "$out"
check_output "a file included by absolute path, any type" \
    "/etc/security/2fa:1: /lib/security/pam_totp.so x" "$out"
check_output "a substack in a subdirectory" "/etc/pam.d/site/2fa:1: pam_totp.so" "$out"
check_output "a file name with a newline, escaped" '/etc/pam.d/a\012b:1: pam_totp.so' "$out"
check_output "the vendor directory" "/usr/lib/pam.d/vlock:1: pam_totp.so vendor" "$out"
check_output "pam.conf, without the service" "/etc/pam.conf:1: pam_totp.so conf" "$out"
check "an included file's line once, its comment dropped" \
    test "$(grep -c '^/etc/pam.d/common-auth:1: pam_totp.so$' <<<"$out")" -eq 1
check "no other line" test "$(wc -l <<<"$out")" -eq 8

printf '%s\n' '@include gone' >"$root/usr/lib/pam.d/sshd"
query
check "a vendor file behind one of the same name in /etc/pam.d is not read (as libpam): exit 0" \
    test "$rc" -eq 0 -a -z "$err"
printf '%s\n' 'auth required pam_unix.so' '@include gone' >"$root/usr/lib/pam.d/broken"
query
check "an include that cannot be followed: exit 3" test "$rc" -eq 3
check_output "  saying which" "cannot include gone" "$err"
check_output "  still listing what it read" "/etc/pam.d/sshd:2: pam_totp.so" "$out"
finish
