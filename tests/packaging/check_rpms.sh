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
# This rpm's own compiler flags without -g: no debuginfo package is made here (build-rpm.sh),
# and these RPMs are only read, never installed and run.
optflags=$(rpm --eval '%{optflags}' | sed -E 's/(^|[[:space:]])-g[^[:space:]]*//g')
"$source_dir/packaging/build-rpm.sh" "$dir" --define "optflags $optflags" >/dev/null
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
check "the shipped config sets no nullok (the roll-out state is not a config file)" \
    test -z "$(grep -E '^[[:space:]]*nullok' <<<"$conf")"
check "the state directory is root 0711" has pam_totp drwx--x--x /var/lib/pam_totp
check "the removal check is shipped" has pam_totp -rwxr-xr-x /usr/libexec/pam_totp/remove-check
check "pam_totp(8) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man8/pam_totp.8' <<<"$(listing pam_totp)"
check "pam_totp.conf(5) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man5/pam_totp.conf.5' <<<"$(listing pam_totp)"
for language in de es fr; do
    check "the $language message catalog is shipped" \
        has pam_totp -rw-r--r-- "/usr/share/locale/$language/LC_MESSAGES/pam_totp.mo"
done
check "totp-verify is setuid root (4755)" has pam_totp -rwsr-xr-x /usr/libexec/pam_totp/totp-verify
check "totp-verify(8) is shipped" grep -q '^-rw-r--r-- root:root /usr/share/man/man8/totp-verify.8' <<<"$(listing pam_totp)"
check "the sshd drop-in examples are shipped" has pam_totp -rw-r--r-- /usr/share/pam_totp/sshd/pam_totp.conf
# %license puts it in /usr/share/licenses/NAME (Fedora) or NAME-VERSION (Debian's rpm).
check "the license text is shipped" \
    grep -qE '^-rw-r--r-- root:root /usr/share/licenses/pam_totp(-[0-9.]+)?/LICENSE$' \
    <<<"$(listing pam_totp)"
check "the package's license is Apache-2.0" test "$(rpm -qp --qf '%{LICENSE}' "$(rpm_of pam_totp)")" = Apache-2.0
check "the fail2ban filter is shipped" has pam_totp -rw-r--r-- /etc/fail2ban/filter.d/pam_totp.conf
check "  as a noreplace config file" \
    grep -qx /etc/fail2ban/filter.d/pam_totp.conf <<<"$(rpm -qp --configfiles "$(rpm_of pam_totp)")"
check "the fail2ban jail example is shipped" \
    has pam_totp -rw-r--r-- /usr/share/pam_totp/fail2ban/jail.d/pam_totp.conf.example
for file in README REQUIREMENTS system-auth password-auth postlogin fingerprint-auth smartcard-auth \
    nsswitch.conf dconf-db dconf-locks; do
    check "the authselect profile's $file is shipped (vendor profile totp)" \
        has pam_totp -rw-r--r-- "/usr/share/authselect/vendor/totp/$file"
done
check "the SELinux module comes with pam_totp where the targeted policy is installed" \
    grep -qxF '(pam_totp-selinux if selinux-policy-targeted)' <<<"$(rpm -qp --requires "$(rpm_of pam_totp)")"
check_output "%post names the authselect profile" "authselect select totp with-totp" \
    "$(rpm -qp --qf '%{POSTIN}' "$(rpm_of pam_totp)")"

echo "--- pam_totp-selinux"
selinux_rpm=$(ls "$dir"/pam_totp-selinux-[0-9]*.noarch.rpm 2>/dev/null | head -1)
check "pam_totp-selinux is built (noarch)" test -n "$selinux_rpm"
selinux_files=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME} %{FILENAMES}\n]' "$selinux_rpm")
check "the policy package is shipped" grep -qxF -- \
    "-rw-r--r-- root:root /usr/share/selinux/packages/targeted/pam_totp.pp.bz2" <<<"$selinux_files"
check "its interface file is shipped for other modules" grep -qxF -- \
    "-rw-r--r-- root:root /usr/share/selinux/devel/include/distributed/pam_totp.if" <<<"$selinux_files"
# policy_cil: the shipped policy package as CIL text.
policy_cil() {
    rpm2archive - <"$selinux_rpm" | tar -xzOf - ./usr/share/selinux/packages/targeted/pam_totp.pp.bz2 |
        bzcat | /usr/libexec/selinux/hll/pp 2>/dev/null
}
check "it is the compiled module pam_totp with the state's type" grep -q pam_totp_var_lib_t <<<"$(policy_cil)"
selinux_scripts=$(rpm -qp --scripts "$selinux_rpm")
check_output "%post installs the module" "semodule -n -s targeted -X 200 -i /usr/share/selinux/packages/targeted/pam_totp.pp.bz2" "$selinux_scripts"
check_output "%post labels totp-resetd's port" "semanage port -a -t totp_resetd_port_t -p tcp 8787" "$selinux_scripts"
check_output "%post relabels the state directory" "restorecon -R" "$selinux_scripts"
check_output "%postun removes the module on erase" "semodule -n -s targeted -X 200 -r pam_totp" "$selinux_scripts"

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
check_output "%postun restarts it after an upgrade (if it runs)" "try-restart totp-resetd.service" "$scripts"

echo "--- pam_totp-postgresql"
check "the PostgreSQL store backend is shipped apart" \
    has pam_totp-postgresql -rw-r--r-- /usr/lib64/pam_totp/pam_totp_store_pg.so
check "the module package does not need libpq" \
    test -z "$(rpm -qp --requires "$(rpm_of pam_totp)" | grep libpq)"

echo "--- the scriptlets, run against a fake root"
# Each runs with /bin/sh as rpm runs it, in a private mount namespace where /etc/pam.d,
# /etc/security, /usr/libexec and /usr/lib/pam.d are directories of a fake root (the package's
# remove-check in it): the host's own are never seen or written.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rpm2archive - <"$(rpm_of pam_totp)" | tar -xzf - -C "$work" ./usr/libexec/pam_totp/remove-check \
    ./usr/sbin/totp-check
# scriptlet PACKAGE TAG: the scriptlet's text (TAG: PREIN, POSTIN, PREUN, POSTUN).
scriptlet() { rpm -qp --qf "%{$2}" "$(rpm_of "$1")"; }
# fake_root [PAMFILE LINE...]: a fresh fake root, optionally with one PAM file; prints it.
fake_root() {
    local dir
    dir=$(mktemp -d "$work/root.XXXXXX")
    mkdir -p "$dir/etc/pam.d" "$dir/etc/security" "$dir/usr/lib/pam.d"
    cp -a "$work/usr/libexec" "$dir/usr/libexec"
    if [ $# -gt 0 ]; then
        local file=$1
        shift
        printf '%s\n' "$@" >"$dir/etc/pam.d/$file"
    fi
    echo "$dir"
}
# run ROOT PACKAGE TAG ARG [VAR=value...]: runs the scriptlet with ARG as $1; sets $out
# (stdout and stderr) and $rc.
run() {
    local root=$1 text
    text=$(scriptlet "$2" "$3")
    out=$(env "${@:5}" unshare --mount --propagation private -- sh -c '
        root=$1 text=$2 arg=$3
        for dir in /etc/pam.d /etc/security /usr/libexec /usr/lib/pam.d; do
            [ -d "$dir" ] || continue # no vendor PAM directory on this host
            mount --bind "$root$dir" "$dir" || exit 99
        done
        exec /bin/sh -c "$text" scriptlet "$arg"' fake "$root" "$text" "$4" 2>&1)
    rc=$?
}
# remove-check reads the PAM files and the config with the package's totp-check (not at
# /usr/sbin here).
reads_config=TOTP_CHECK=$work/usr/sbin/totp-check
state_in() { sed -n '/^[^#]/p' "$1/etc/security/pam_totp.rollout" 2>/dev/null || echo none; }

root=$(fake_root)
run "$root" pam_totp POSTIN 1 "$reads_config"
check "%post on first install writes the roll-out state: rollout" test "$rc" -eq 0 -a "$(state_in "$root")" = rollout
check "  root 0644" test "$(stat -c %U:%a "$root/etc/security/pam_totp.rollout")" = root:644
check_output "  and says the module is in no PAM stack yet, with the line to add" \
    "    auth required pam_totp.so" "$out"
root=$(fake_root system-auth 'auth required pam_unix.so' 'auth required pam_totp.so')
run "$root" pam_totp POSTIN 2 "$reads_config"
check "%post on upgrade writes nothing" test "$rc" -eq 0 -a "$(state_in "$root")" = none
check_no_output "  and is quiet when a stack names the module" "no PAM stack" "$out"

for case in 'yes rollout' 'no enforce' 'missing enforce'; do
    read -r nullok expected <<<"$case"
    root=$(fake_root)
    if [ "$nullok" = missing ]; then
        printf '[global]\n#nullok = no\n' >"$root/etc/security/pam_totp.conf"
    else
        printf '[global]\nnullok = %s\n[reset]\n' "$nullok" >"$root/etc/security/pam_totp.conf"
    fi
    run "$root" pam_totp PREIN 2
    check "%pre on upgrade from a config with nullok $nullok: $expected" \
        test "$rc" -eq 0 -a "$(state_in "$root")" = "$expected"
done
printf 'enforce\n' >"$root/etc/security/pam_totp.rollout"
printf '[global]\nnullok = yes\n' >"$root/etc/security/pam_totp.conf"
run "$root" pam_totp PREIN 2
check "%pre leaves an existing roll-out state alone" test "$(state_in "$root")" = enforce

root=$(fake_root system-auth 'auth [success=1 default=ignore] pam_unix.so' 'auth requisite pam_deny.so' \
    'auth required pam_totp.so')
run "$root" pam_totp PREUN 0 "$reads_config"
check "%preun refuses the erase while system-auth (edited by hand) names the module" test "$rc" -ne 0
check_output "  listing the file and line" "/etc/pam.d/system-auth:3: pam_totp.so" "$out"
check_output "  saying what to do" "Take pam_totp.so out of each of them" "$out"
check_output "  and how to override" "PAM_TOTP_FORCE_REMOVE=1 dnf remove pam_totp" "$out"
run "$root" pam_totp PREUN 0 PAM_TOTP_FORCE_REMOVE=1 "$reads_config"
check "  PAM_TOTP_FORCE_REMOVE=1 lets it go ahead" test "$rc" -eq 0
run "$root" pam_totp PREUN 1 "$reads_config"
check "  an upgrade is never refused" test "$rc" -eq 0
root=$(fake_root totp-enroll 'auth required pam_unix.so' 'auth required pam_totp.so nullok')
run "$root" pam_totp PREUN 0 "$reads_config"
check "%preun lets the erase go ahead when only the package's own service names it" test "$rc" -eq 0

printf 'rollout\n' >"$root/etc/security/pam_totp.rollout"
run "$root" pam_totp POSTUN 1
check "%postun keeps the roll-out state on upgrade" test "$(state_in "$root")" = rollout
run "$root" pam_totp POSTUN 0
check "%postun removes it on erase" test "$(state_in "$root")" = none

printf '[GLOBAL]\nStore = postgresql ; the fleet\n' >"$root/etc/security/pam_totp.conf"
run "$root" pam_totp-postgresql PREUN 0 "$reads_config"
check "pam_totp-postgresql's %preun refuses the erase while Store = postgresql" test "$rc" -ne 0
check_output "  saying what to do" "totp-enroll migrate --to files" "$out"
printf '[global]\nstore = files\n' >"$root/etc/security/pam_totp.conf"
run "$root" pam_totp-postgresql PREUN 0 "$reads_config"
check "  and lets it go ahead with store = files" test "$rc" -eq 0
finish
