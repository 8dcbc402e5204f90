#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# packaging/remove-check refuses to remove the PostgreSQL store backend whenever the module
# would need it, as the module reads its configuration: every spelling iniparser accepts,
# a config= argument naming another file, a store=postgresql argument; and whenever that
# cannot be told (a config the module cannot read, no totp-check to read it with). Each
# case is a fake root given with --root, read with the built totp-check (TOTP_CHECK).
#   check_remove_check.sh SOURCE_DIR TOTP_CHECK
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"

remove_check=$1/packaging/remove-check
export TOTP_CHECK=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
umask 022 # the module trusts only a config that is not writable by group or other

# fake_root NAME CONFIG_LINE...: a fresh root whose common-auth runs the module with the
# default config, and whose pam_totp.conf holds the lines (none: no config file).
fake_root() {
    local dir=$work/$1
    shift
    mkdir -p "$dir/etc/pam.d" "$dir/etc/security"
    printf '%s\n' 'auth required pam_unix.so' 'auth required pam_totp.so' >"$dir/etc/pam.d/common-auth"
    [ $# -eq 0 ] || printf '%s\n' "$@" >"$dir/etc/security/pam_totp.conf"
    echo "$dir"
}
# remove ROOT [VAR=value...]: the backend's removal check; sets out and rc.
remove() {
    local root=$1
    shift
    out=$(env "$@" sh "$remove_check" --root "$root" postgresql "apt remove libpam-totp-postgresql" 2>&1)
    rc=$?
}

echo "--- every spelling iniparser reads as store = postgresql refuses the removal"
spelling=0
for lines in 'store = postgresql' 'Store = postgresql' 'STORE=postgresql' \
    'store=postgresql ; the fleet' 'store = postgresql # the fleet' 'store = "postgresql"' \
    "store = 'postgresql'" '   store   =   postgresql   '; do
    spelling=$((spelling + 1))
    remove "$(fake_root "spelling$spelling" '[global]' "$lines" '[reset]')"
    check "[global] $lines: refused" test "$rc" -eq 1
done
for header in '[GLOBAL]' '[ global ]' '[Global]'; do
    spelling=$((spelling + 1))
    remove "$(fake_root "spelling$spelling" "$header" 'store = postgresql')"
    check "$header store = postgresql: refused" test "$rc" -eq 1
done
check_output "  the refusal names the file" "/etc/security/pam_totp.conf selects store = postgresql" "$out"
check_output "  says what to do" "totp-enroll migrate --to files" "$out"
check_output "  and how to override" "PAM_TOTP_FORCE_REMOVE=1 apt remove libpam-totp-postgresql" "$out"

echo "--- the file a pam_totp line reads with config= counts too"
root=$(fake_root config_argument '[global]' 'store = files')
printf '%s\n' '[global]' 'Store = postgresql' >"$root/etc/security/fleet.conf"
printf '%s\n' 'auth required pam_unix.so' 'auth required pam_totp.so config=/etc/security/fleet.conf' \
    >"$root/etc/pam.d/sshd"
remove "$root"
check "config=/etc/security/fleet.conf selecting postgresql: refused" test "$rc" -eq 1
check_output "  the refusal names that file" "/etc/security/fleet.conf selects store = postgresql" "$out"
printf '%s\n' 'auth required pam_unix.so' 'auth required pam_totp.so [config=/etc/security/fleet.conf]' \
    >"$root/etc/pam.d/sshd"
remove "$root"
check "the same written in brackets ([config=...]): refused" test "$rc" -eq 1
printf '%s\n' '[global]' 'store = files' >"$root/etc/security/fleet.conf"
remove "$root"
check "both files say store = files: removed" test "$rc" -eq 0 -a -z "$out"
printf '%s\n' 'auth required pam_totp.so config=/etc/security/gone.conf' >"$root/etc/pam.d/sshd"
remove "$root"
check "config= names a missing file (the module refuses every login): refused" test "$rc" -eq 1
check_output "  saying it cannot tell, and why" "/etc/security/gone.conf: cannot tell which store" "$out"
printf '%s\n' 'auth required pam_totp.so store=postgresql' >"$root/etc/pam.d/sshd"
remove "$root"
check "a store=postgresql module argument: refused" test "$rc" -eq 1
check_output "  naming the line" "/etc/pam.d/sshd:1: pam_totp.so store=postgresql" "$out"

echo "--- the lines as libpam reads them: continued, in included files, in any file name"
# remove_module ROOT: the module's removal check; sets out and rc.
remove_module() {
    out=$(sh "$remove_check" --root "$1" module "apt remove libpam-totp" 2>&1)
    rc=$?
}
root=$(fake_root continued '[global]' 'store = files')
printf '%s\n' 'auth required pam_totp.so nullok \' '    store=postgresql' >"$root/etc/pam.d/sshd"
remove "$root"
check "store=postgresql on a continuation line (libpam joins a line ending in \\): refused" \
    test "$rc" -eq 1
printf '%s\n' '[global]' 'store = postgresql' >"$root/etc/security/fleet.conf"
printf '%s\n' 'auth required pam_totp.so nullok \' 'config=/etc/security/fleet.conf' >"$root/etc/pam.d/sshd"
remove "$root"
check "config= on a continuation line naming a postgresql config: refused" test "$rc" -eq 1
check_output "  naming that file" "/etc/security/fleet.conf selects store = postgresql" "$out"

root=$(fake_root included '[global]' 'store = files')
printf '%s\n' 'auth required pam_totp.so store=postgresql' >"$root/etc/security/pam-2fa"
printf '%s\n' 'auth required pam_unix.so' '@include /etc/security/pam-2fa' >"$root/etc/pam.d/sshd"
remove "$root"
check "store=postgresql in a file included by absolute path (@include /etc/...): refused" \
    test "$rc" -eq 1
root=$(fake_root substack_dir)
rm "$root/etc/pam.d/common-auth"
mkdir "$root/etc/pam.d/site"
printf '%s\n' 'auth required pam_totp.so' >"$root/etc/pam.d/site/2fa"
printf '%s\n' 'auth required pam_unix.so' 'auth substack site/2fa' >"$root/etc/pam.d/sshd"
remove_module "$root"
check "pam_totp.so in a substack in a subdirectory (site/2fa): the module's removal is refused" \
    test "$rc" -eq 1
check_output "  naming that file and line" "/etc/pam.d/site/2fa:1: pam_totp.so" "$out"
printf '%s\n' 'auth required pam_unix.so' '@include site/gone' >"$root/etc/pam.d/sshd"
rm -r "$root/etc/pam.d/site"
remove_module "$root"
check "an include that cannot be followed (what it names is unknown): refused" test "$rc" -eq 1

for name in 'a|b' 'a\b' "$(printf 'a\nb')" 'a b'; do
    root=$(fake_root "odd$RANDOM")
    rm "$root/etc/pam.d/common-auth"
    printf '%s\n' 'auth required pam_totp.so' >"$root/etc/pam.d/$name"
    remove_module "$root"
    check "pam_totp.so in a PAM file named $(printf %q "$name"): the module's removal is refused" \
        test "$rc" -eq 1
done

root=$(fake_root own_service '[global]' 'store = files')
rm "$root/etc/pam.d/common-auth"
printf '%s\n' 'auth required pam_totp.so store=postgresql' >"$root/etc/pam.d/totp-reset"
remove "$root"
check "store=postgresql in the package's own totp-reset (it stays when only the backend goes): refused" \
    test "$rc" -eq 1
remove_module "$root"
check "  while removing the module with it goes ahead" test "$rc" -eq 0 -a -z "$out"
remove "$root" TOTP_CHECK="$work/missing/totp-check"
check "no totp-check to list the PAM lines with: refused" test "$rc" -eq 1
out=$(TOTP_CHECK="$work/missing/totp-check" sh "$remove_check" --root "$root" module x 2>&1)
check "  the module's removal too" test $? -eq 1

# The package's own services go with the module, but a service of the admin's that
# includes one of them keeps needing it.
root=$(fake_root includes_own)
rm "$root/etc/pam.d/common-auth"
printf '%s\n' 'auth required pam_unix.so' 'auth required pam_totp.so nullok' >"$root/etc/pam.d/totp-enroll"
printf '%s\n' 'auth required pam_unix.so' '@include totp-enroll' >"$root/etc/pam.d/sshd"
remove_module "$root"
check "sshd includes the package's own totp-enroll: the module's removal is refused" \
    test "$rc" -eq 1
check_output "  naming the included line" "/etc/pam.d/totp-enroll:2: pam_totp.so" "$out"

# libpam reads a line of 1023 bytes or more in pieces, each a line of its own: the second
# piece of one such line may name a config of its own. Whether an editor shows one line or
# two, the removal cannot tell what libpam loads from it: refused.
root=$(fake_root long_line '[global]' 'store = files')
printf '%s\n' '[global]' 'store = postgresql' >"$root/etc/security/pg.conf"
{
    printf 'auth required pam_totp.so store=files'
    printf '%*s' 990 ''
    printf 'auth required pam_totp.so config=/etc/security/pg.conf\n'
} >"$root/etc/pam.d/sshd"
remove "$root"
check "a second pam_totp.so in the part of a 1023-byte line libpam reads on its own: refused" \
    test "$rc" -eq 1

# libpam stops a line at a NUL byte, so a backslash after one joins nothing.
root=$(fake_root nul_byte)
rm "$root/etc/pam.d/common-auth"
printf 'account required pam_unix.so\000 \\\nauth required pam_totp.so\n' >"$root/etc/pam.d/sshd"
remove_module "$root"
check "pam_totp.so on the line after a NUL byte and a backslash: the module's removal is refused" \
    test "$rc" -eq 1

echo "--- a config the module cannot read decides nothing: refused (fail closed)"
root=$(fake_root group_writable '[global]' 'store = files')
chmod 0664 "$root/etc/security/pam_totp.conf"
remove "$root"
check "a group-writable pam_totp.conf: refused" test "$rc" -eq 1
check_output "  saying why" "writable by group or other" "$out"
check_output "  and where to look" "totp-check" "$out"
remove "$root" PAM_TOTP_FORCE_REMOVE=1
check "  PAM_TOTP_FORCE_REMOVE=1 lets it go ahead" test "$rc" -eq 0
check_output "  with a warning" "removing anyway" "$out"
remove "$(fake_root misplaced '[global]' '[reset]' 'store = postgresql')"
check "store = postgresql in [reset] (a misplaced key: the module refuses every login): refused" \
    test "$rc" -eq 1
remove "$(fake_root syntax '[global]' 'store postgresql')"
check "a syntax error: refused" test "$rc" -eq 1
remove "$(fake_root no_tool '[global]' 'store = files')" TOTP_CHECK="$work/missing/totp-check"
check "no totp-check to read the config with: refused" test "$rc" -eq 1
check_output "  saying so" "$work/missing/totp-check" "$out"

echo "--- the file store: the removal goes ahead"
remove "$(fake_root no_config)"
check "no pam_totp.conf (the built-in store = files): removed" test "$rc" -eq 0 -a -z "$out"
remove "$(fake_root files '[global]' '#store = postgresql' 'Store = files ; was postgresql' '[reset]')"
check "Store = files (postgresql only in comments): removed" test "$rc" -eq 0 -a -z "$out"
finish
