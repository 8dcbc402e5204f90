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
check "the shipped config lets unenrolled users through (nullok = yes)" grep -qx 'nullok = yes' <<<"$conf"
check "the pam-auth-update profile is shipped" has libpam-totp -rw-r--r-- usr/share/pam-configs/totp
check "pam_totp(8) is shipped" has libpam-totp -rw-r--r-- usr/share/man/man8/pam_totp.8.gz
check "pam_totp.conf(5) is shipped" has libpam-totp -rw-r--r-- usr/share/man/man5/pam_totp.conf.5.gz
check "the sshd drop-in examples are shipped" has libpam-totp -rw-r--r-- usr/share/pam_totp/sshd/pam_totp.conf
check "README.Debian says how a libstdc++ fix reaches the module" \
    has libpam-totp -rw-r--r-- usr/share/doc/libpam-totp/README.Debian
copyright=$(dpkg-deb --fsys-tarfile "$(deb libpam-totp)" | tar -xOf - ./usr/share/doc/libpam-totp/copyright)
check "the copyright file names the license, Apache-2.0" grep -qx 'License: Apache-2.0' <<<"$copyright"
check "the state directory is not shipped (postinst creates it 0700)" \
    test -z "$(contents libpam-totp | grep ' ./var/lib/pam_totp')"
scripts=$(dpkg-deb -I "$(deb libpam-totp)" postinst prerm postrm)
check_output "postinst runs pam-auth-update" "pam-auth-update --package" "$scripts"
check_output "postinst runs totp-check without failing the install" "totp-check ||" "$scripts"
check_output "prerm takes the profile out on remove" "pam-auth-update --package --remove totp" "$scripts"
check_output "postinst creates the state directory root 0700" "install -d -m 0700 -o root -g root /var/lib/pam_totp" "$scripts"

echo "--- totp-enroll"
check "totp-enroll is setuid root (4755) in the package" has totp-enroll -rwsr-xr-x usr/bin/totp-enroll
check "its PAM service is shipped" has totp-enroll -rw-r--r-- etc/pam.d/totp-enroll
check "totp-enroll(1) is shipped" has totp-enroll -rw-r--r-- usr/share/man/man1/totp-enroll.1.gz

echo "--- totp-resetd"
check "totp-resetd is shipped" has totp-resetd -rwxr-xr-x usr/sbin/totp-resetd
check "its unit is shipped" has totp-resetd -rw-r--r-- lib/systemd/system/totp-resetd.service
check "its PAM service is shipped" has totp-resetd -rw-r--r-- etc/pam.d/totp-reset
check "totp-resetd(8) is shipped" has totp-resetd -rw-r--r-- usr/share/man/man8/totp-resetd.8.gz
check_output "postinst creates the system user" "adduser --system" "$(dpkg-deb -I "$(deb totp-resetd)" postinst)"

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
