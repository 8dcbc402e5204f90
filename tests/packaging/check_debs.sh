#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages built by packaging/build-deb.sh hold what deployment relies on, and
# lintian finds no error and no warning in them (overrides only with a written reason).
#   check_debs.sh DEB_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"

dir=$1
command -v lintian >/dev/null || { echo "FAIL: lintian is not installed (scripts/install-deps.sh)"; exit 1; }
changes=$(ls "$dir"/pam-totp_*.changes 2>/dev/null | head -1)
[ -n "$changes" ] || { echo "FAIL: no pam-totp_*.changes in $dir (packaging.build_debs)"; exit 1; }
deb() { ls "$dir/$1"_*.deb 2>/dev/null | head -1; }
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)

# contents PACKAGE: "mode owner path" per entry of the package's data.
contents() { dpkg-deb -c "$(deb "$1")" | awk '{ print $1, $2, $6 }'; }
has() { # PACKAGE MODE PATH
    grep -qxF -- "$2 root/root ./$3" <<<"$(contents "$1")"
}

echo "--- libpam-totp"
check "the module is in Debian's PAM directory" has libpam-totp -rw-r--r-- "lib/$multiarch/security/pam_totp.so"
check "the config is shipped" has libpam-totp -rw-r--r-- etc/security/pam_totp.conf
check "and is a conffile" grep -qx /etc/security/pam_totp.conf <<<"$(dpkg-deb -I "$(deb libpam-totp)" conffiles)"
conf=$(dpkg-deb --fsys-tarfile "$(deb libpam-totp)" | tar -xOf - ./etc/security/pam_totp.conf)
check "the shipped config sets no nullok (the roll-out state is not a conffile)" \
    test -z "$(grep -E '^[[:space:]]*nullok' <<<"$conf")"
check "the pam-auth-update profile is shipped" has libpam-totp -rw-r--r-- usr/share/pam-configs/totp
check "pam_totp(8) is shipped" has libpam-totp -rw-r--r-- usr/share/man/man8/pam_totp.8.gz
check "pam_totp.conf(5) is shipped" has libpam-totp -rw-r--r-- usr/share/man/man5/pam_totp.conf.5.gz
for language in de es fr; do
    check "the $language message catalog is shipped" \
        has libpam-totp -rw-r--r-- "usr/share/locale/$language/LC_MESSAGES/pam_totp.mo"
done
check "totp-verify is setuid root (4755) in the package" has libpam-totp -rwsr-xr-x usr/libexec/pam_totp/totp-verify
check "totp-verify(8) is shipped" has libpam-totp -rw-r--r-- usr/share/man/man8/totp-verify.8.gz
check "the sshd drop-in examples are shipped" has libpam-totp -rw-r--r-- usr/share/pam_totp/sshd/pam_totp.conf
check "README.Debian says how a libstdc++ fix reaches the module" \
    has libpam-totp -rw-r--r-- usr/share/doc/libpam-totp/README.Debian
copyright=$(dpkg-deb --fsys-tarfile "$(deb libpam-totp)" | tar -xOf - ./usr/share/doc/libpam-totp/copyright)
check "the copyright file names the license, Apache-2.0" grep -qx 'License: Apache-2.0' <<<"$copyright"
check "the state directory is not shipped (postinst creates it 0711)" \
    test -z "$(contents libpam-totp | grep ' ./var/lib/pam_totp')"
check "the roll-out state is not shipped (not a conffile; postinst writes it)" \
    test -z "$(contents libpam-totp | grep 'pam_totp.rollout')"
check "the removal check is shipped" has libpam-totp -rwxr-xr-x usr/libexec/pam_totp/remove-check
check "the fail2ban filter is shipped" has libpam-totp -rw-r--r-- etc/fail2ban/filter.d/pam_totp.conf
check "  as a conffile" grep -qx /etc/fail2ban/filter.d/pam_totp.conf <<<"$(dpkg-deb -I "$(deb libpam-totp)" conffiles)"
check "  the one the test suite runs fail2ban-regex with" cmp -s "$here/../../packaging/fail2ban/filter.d/pam_totp.conf" \
    <(dpkg-deb --fsys-tarfile "$(deb libpam-totp)" | tar -xOf - ./etc/fail2ban/filter.d/pam_totp.conf)
check "the fail2ban jail example is shipped" \
    has libpam-totp -rw-r--r-- usr/share/pam_totp/fail2ban/jail.d/pam_totp.conf.example
scripts=$(dpkg-deb -I "$(deb libpam-totp)" postinst prerm postrm)
check_output "postinst runs pam-auth-update" "pam-auth-update --package" "$scripts"
check_output "postinst runs totp-check without failing the install" "totp-check >&2 ||" "$scripts"
check_output "prerm takes the profile out on remove" "pam-auth-update --package --remove totp" "$scripts"
check_output "prerm then refuses while a PAM file names the module" \
    '/usr/libexec/pam_totp/remove-check module "apt remove libpam-totp"' "$scripts"
check_output "postinst creates the state directory root 0711" "install -d -m 0711 -o root -g root /var/lib/pam_totp" "$scripts"
check_output "postinst writes the roll-out state on first install" "write_rollout_state rollout" "$scripts"
check_output "postinst puts up the note when common-auth lacks the module" \
    "db_input high libpam-totp/not-in-common-auth" "$scripts"
check_output "postrm purge removes the roll-out state" "rm -f /etc/security/pam_totp.rollout" "$scripts"
templates=$(dpkg-deb -I "$(deb libpam-totp)" templates)
check_output "the note says which line to add" "auth required pam_totp.so" "$templates"
check "the package depends on debconf" grep -q debconf <<<"$(dpkg-deb -f "$(deb libpam-totp)" Depends)"
check "postgresql's prerm refuses while the config selects it" grep -qF \
    '/usr/libexec/pam_totp/remove-check postgresql "apt remove libpam-totp-postgresql"' \
    <<<"$(dpkg-deb -I "$(deb libpam-totp-postgresql)" prerm)"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dpkg-deb -x "$(deb libpam-totp)" "$work/pkg"
dpkg-deb -e "$(deb libpam-totp)" "$work/control"
remove_check=$work/pkg/usr/libexec/pam_totp/remove-check
export TOTP_CHECK=$work/pkg/usr/sbin/totp-check # the package's, reading the fake roots

echo "--- remove-check against fake roots"
# fake_root NAME FILE CONTENT...: a fresh DIR/etc with FILE (under etc/) holding CONTENT lines.
fake_root() {
    local dir=$work/$1 file=$2
    shift 2
    mkdir -p "$dir/etc/pam.d" "$dir/etc/security"
    printf '%s\n' "$@" >"$dir/etc/$file"
    echo "$dir"
}
fake=$(fake_root clean pam.d/common-auth 'auth required pam_unix.so' '# auth required pam_totp.so' \
    'auth required pam_permit.so # pam_totp.so was here')
printf 'auth required pam_totp.so nullok\n' >"$fake/etc/pam.d/totp-enroll"
printf 'auth required pam_totp.so\n' >"$fake/etc/pam.d/sshd.dpkg-old"
out=$(sh "$remove_check" --root "$fake" module "apt remove libpam-totp" 2>&1)
check "no PAM file names the module (comments, its own service and dpkg copies aside): removal goes ahead" \
    test $? -eq 0 -a -z "$out"
fake=$(fake_root sshd pam.d/sshd '@include common-account' 'auth required pam_permit.so' 'auth required pam_totp.so')
printf 'account required pam_unix.so\n' >"$fake/etc/pam.d/common-account" # libpam reads what sshd includes
out=$(sh "$remove_check" --root "$fake" module "apt remove libpam-totp" 2>&1)
check "/etc/pam.d/sshd names the module: refused" test $? -eq 1
check_output "  the refusal lists the file and line" "/etc/pam.d/sshd:3: pam_totp.so" "$out"
check_output "  says what to do" 'put "@include common-auth" back' "$out"
check_output "  and how to override" "PAM_TOTP_FORCE_REMOVE=1 apt remove libpam-totp" "$out"
out=$(PAM_TOTP_FORCE_REMOVE=1 sh "$remove_check" --root "$fake" module "apt remove libpam-totp" 2>&1)
check "PAM_TOTP_FORCE_REMOVE=1 lets the removal go ahead" test $? -eq 0
check_output "  with a warning" "removing anyway" "$out"
fake=$(fake_root pg security/pam_totp.conf '[Global]' 'Store = postgresql ; the fleet' '[reset]')
out=$(sh "$remove_check" --root "$fake" postgresql "apt remove libpam-totp-postgresql" 2>&1)
check "Store = postgresql (as iniparser reads it): removing the backend is refused" test $? -eq 1
check_output "  saying what to do" "totp-enroll migrate --to files" "$out"
fake=$(fake_root files security/pam_totp.conf '[global]' '#store = postgresql' 'store = files')
check "store = files: removing the backend goes ahead" \
    sh "$remove_check" --root "$fake" postgresql "apt remove libpam-totp-postgresql"
printf 'auth required pam_totp.so store=postgresql\n' >"$fake/etc/pam.d/sshd"
check "a store=postgresql module argument refuses it too" \
    test "$(sh "$remove_check" --root "$fake" postgresql x >/dev/null 2>&1; echo $?)" -eq 1

# Linux-PAM also reads the vendor directory /usr/lib/pam.d (a service with no file in
# /etc/pam.d) and /etc/pam.conf (when there is no /etc/pam.d): a line there fails too.
fake=$(fake_root vendor pam.conf 'login auth required pam_totp.so')
mkdir -p "$fake/usr/lib/pam.d"
printf 'auth required pam_unix.so\nauth required pam_totp.so\n' >"$fake/usr/lib/pam.d/vlock"
out=$(sh "$remove_check" --root "$fake" module "apt remove libpam-totp" 2>&1)
check "a line in /usr/lib/pam.d or /etc/pam.conf refuses the removal too" test $? -eq 1
check_output "  listing the vendor file" "/usr/lib/pam.d/vlock:2: pam_totp.so" "$out"
check_output "  and pam.conf" "/etc/pam.conf:1: pam_totp.so" "$out"

echo "--- preinst: the upgrade from 0.1.0 moves nullok from the conffile to the roll-out state"
# migrated OLD_VERSION CONFIG_LINE...: the roll-out state the preinst leaves (or "none").
migrated() {
    local old=$1 dir
    shift
    dir=$(fake_root "migrate$RANDOM" security/pam_totp.conf "$@")
    DPKG_ROOT=$dir sh "$work/control/preinst" upgrade "$old" >/dev/null 2>&1 || echo "preinst failed"
    sed -n '/^[^#]/p' "$dir/etc/security/pam_totp.rollout" 2>/dev/null || echo none
}
check "nullok = yes (as 0.1.0 shipped it): rollout" test "$(migrated 0.1.0 '[global]' 'nullok = yes' '[reset]')" = rollout
check "nullok = no: enforce" test "$(migrated 0.1.0 '[global]' 'nullok = no' '[reset]')" = enforce
check "nullok = On: rollout" test "$(migrated 0.1.0 '[global]' '  nullok=On  ')" = rollout
check "no nullok (the built-in no): enforce" test "$(migrated 0.1.0 '[global]' '#nullok = yes')" = enforce
check "nullok = yes in [reset] is not the module's: enforce" \
    test "$(migrated 0.1.0 '[global]' '[reset]' 'nullok = yes')" = enforce
check "an upgrade from 0.2.0 writes nothing" test "$(migrated 0.2.0 '[global]' 'nullok = yes')" = none

echo "--- totp-enroll"
check "totp-enroll is setuid root (4755) in the package" has totp-enroll -rwsr-xr-x usr/bin/totp-enroll
check "its PAM service is shipped" has totp-enroll -rw-r--r-- etc/pam.d/totp-enroll
check "totp-enroll(1) is shipped" has totp-enroll -rw-r--r-- usr/share/man/man1/totp-enroll.1.gz

echo "--- totp-resetd"
check "totp-resetd is shipped" has totp-resetd -rwxr-xr-x usr/sbin/totp-resetd
check "its unit is shipped" has totp-resetd -rw-r--r-- lib/systemd/system/totp-resetd.service
check "its PAM service is shipped" has totp-resetd -rw-r--r-- etc/pam.d/totp-reset
check "totp-resetd(8) is shipped" has totp-resetd -rw-r--r-- usr/share/man/man8/totp-resetd.8.gz
resetd_scripts=$(dpkg-deb -I "$(deb totp-resetd)" postinst prerm)
check_output "postinst creates the system user" "adduser --system" "$resetd_scripts"
check_output "postinst restarts the service after an upgrade (if it runs)" "_dh_action=restart" "$resetd_scripts"
check_output "prerm stops it on remove" "deb-systemd-invoke stop 'totp-resetd.service'" "$resetd_scripts"
check "libpam-pwquality (it changes common-password) is only recommended" \
    test -z "$(dpkg-deb -f "$(deb totp-resetd)" Depends | grep -w libpam-pwquality)" \
    -a -n "$(dpkg-deb -f "$(deb totp-resetd)" Recommends | grep -x libpam-pwquality)"

echo "--- libpam-totp-postgresql"
check "the PostgreSQL store backend is shipped apart" \
    has libpam-totp-postgresql -rw-r--r-- "usr/lib/$multiarch/pam_totp/pam_totp_store_pg.so"
check "the module package does not pull libpq in" \
    test -z "$(dpkg-deb -f "$(deb libpam-totp)" Depends | grep libpq)"

echo "--- lintian"
# lintian refuses nothing as root but says so on stderr; only its findings matter.
findings=$(lintian --fail-on error,warning --display-info "$changes" 2>/dev/null)
check "lintian: no errors, no warnings" test $? -eq 0
sed 's/^/    | /' <<<"$findings"
check "lintian reports no error or warning lines" test -z "$(grep -E '^(E|W): ' <<<"$findings")"
finish
