#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# packaging/rpm/pam_totp.spec builds with rpmbuild (packaging/build-rpm.sh) and its packages
# install the same files, modes and scriptlets as the Debian ones.
#   check_rpms.sh SOURCE_DIR RPM_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"

source_dir=$1 dir=$2
command -v rpmbuild >/dev/null || { echo "FAIL: rpmbuild is not installed (scripts/install-deps.sh)"; exit 1; }
"$source_dir/packaging/build-rpm.sh" "$dir" >/dev/null
check "rpmbuild builds the packages" test $? -eq 0
rpm_of() { ls "$dir/$1"-[0-9]*."$(uname -m)".rpm 2>/dev/null | head -1; }
# listing PACKAGE: "mode owner:group path" per file.
listing() { rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$(rpm_of "$1")"; }
has() { grep -qxF -- "$2 root:root $3" <<<"$(listing "$1")"; }
check "a source RPM is built" test -n "$(ls "$dir"/pam_totp-*.src.rpm 2>/dev/null)"

echo "--- pam_totp"
check "the module is in the PAM directory" has pam_totp -rw-r--r-- /usr/lib64/security/pam_totp.so
check "the config is shipped" has pam_totp -rw-r--r-- /etc/security/pam_totp.conf
check "and is a noreplace config file" \
    grep -qx /etc/security/pam_totp.conf <<<"$(rpm -qp --configfiles "$(rpm_of pam_totp)")"
conf=$(rpm2archive - <"$(rpm_of pam_totp)" | tar -xzOf - ./etc/security/pam_totp.conf)
check "the shipped config lets unenrolled users through (nullok = yes)" grep -qx 'nullok = yes' <<<"$conf"
check "the state directory is root 0700" has pam_totp drwx------ /var/lib/pam_totp
check "pam_totp(8) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man8/pam_totp.8' <<<"$(listing pam_totp)"
check "pam_totp.conf(5) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man5/pam_totp.conf.5' <<<"$(listing pam_totp)"
check "the sshd drop-in examples are shipped" has pam_totp -rw-r--r-- /usr/share/pam_totp/sshd/pam_totp.conf
# %license puts it in /usr/share/licenses/NAME (Fedora) or NAME-VERSION (Debian's rpm).
check "the license text is shipped" \
    grep -qE '^-rw-r--r-- root:root /usr/share/licenses/pam_totp(-[0-9.]+)?/LICENSE$' \
    <<<"$(listing pam_totp)"
check "the package's license is Apache-2.0" test "$(rpm -qp --qf '%{LICENSE}' "$(rpm_of pam_totp)")" = Apache-2.0

echo "--- totp-enroll"
check "totp-enroll is setuid root (4755)" has totp-enroll -rwsr-xr-x /usr/bin/totp-enroll
check "its PAM service is shipped" has totp-enroll -rw-r--r-- /etc/pam.d/totp-enroll
check "totp-enroll(1) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man1/totp-enroll.1' <<<"$(listing totp-enroll)"

echo "--- totp-resetd"
check "totp-resetd is shipped" has totp-resetd -rwxr-xr-x /usr/sbin/totp-resetd
check "its unit is shipped" has totp-resetd -rw-r--r-- /usr/lib/systemd/system/totp-resetd.service
check "its PAM service is shipped" has totp-resetd -rw-r--r-- /etc/pam.d/totp-reset
check "totp-resetd(8) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man8/totp-resetd.8' <<<"$(listing totp-resetd)"
scripts=$(rpm -qp --scripts "$(rpm_of totp-resetd)")
check_output "%pre creates the system user" "useradd -r -g totp-resetd" "$scripts"
check_output "%post presets the unit (not enabled by default)" "systemctl --no-reload preset totp-resetd.service" "$scripts"
check_output "%preun disables and stops it on erase" "disable --now totp-resetd.service" "$scripts"

echo "--- pam_totp-postgresql"
check "the PostgreSQL store backend is shipped apart" \
    has pam_totp-postgresql -rw-r--r-- /usr/lib64/pam_totp/pam_totp_store_pg.so
check "the module package does not need libpq" \
    test -z "$(rpm -qp --requires "$(rpm_of pam_totp)" | grep libpq)"
finish
