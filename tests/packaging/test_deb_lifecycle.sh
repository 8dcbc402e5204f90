#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# No package operation locks anyone out or silently turns the second factor off, on a
# minimal Debian 12 (debootstrap --variant=minbase) that only has what the packages need:
#
#   install; enroll; enforce with totp-enroll enforce; upgrade to a higher version whose
#   conffile changed, non-interactively, with --force-confnew and with --force-confold;
#   a hand-edited common-auth before removal (refused, with the list) and before install
#   (the debconf note); removal while /etc/pam.d/sshd names the module (refused; the
#   override works); removal of the PostgreSQL backend while selected (refused); the
#   config deleted and the packages reinstalled; purge and reinstall; upgrades from a
#   version that kept nullok in the conffile (as shipped, and set to no by the admin).
#
# After each step, logins through pamtester (password, code from oathtool) behave as the
# administrator chose, none fails with "Module is unknown", and every refused package
# operation says what to do.
#
# The higher versions are the packages under test repacked with a new version and one
# more comment in the conffile: the same maintainer scripts, a changed conffile. The
# "old" version is repacked too, as 0.1.0 shipped: "nullok = yes" in the conffile and no
# roll-out state written.
#
# The system is unpacked from a cached tarball (lib/debian-root.sh; the first run
# debootstraps it) into a tmpfs of a private mount namespace and chrooted into; the
# host's dpkg database, /etc and users are compared before and after.
#
#   test_deb_lifecycle.sh DEB_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
system_lib=$(cd "$here/../system/lib" && pwd)
. "$system_lib/sandbox.sh"
. "$system_lib/check.sh"
. "$here/lib/debian-root.sh"

deb_dir=$(cd "$1" && pwd)
packages=(libpam-totp totp-enroll libpam-totp-postgresql)
deb_of() { ls "$deb_dir/$1"_*.deb 2>/dev/null | head -1; }

host_snapshot() {
    sha256sum /var/lib/dpkg/status /etc/passwd /etc/shadow /etc/group /etc/gshadow 2>&1
    find /etc/pam.d /etc/security /usr/share/pam-configs -printf '%p %m %U %s %T@\n' 2>&1 | sort
    ls -ld /var/lib/pam_totp /usr/bin/totp-enroll /lib/*/security/pam_totp.so 2>&1
    findmnt -rn -o TARGET | sort
}

# What the system needs besides minbase: the packages' dependencies (first alternative,
# without versions) and pamtester.
root_packages() {
    local package
    for package in "${packages[@]}"; do dpkg-deb -f "$(deb_of "$package")" Depends; done |
        tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/[[:space:]]//g' |
        grep -vx -e '' -e libpam-totp -e totp-enroll -e libpam-totp-postgresql
    echo pamtester
}

if [ -z "${_SANDBOX_INNER:-}" ]; then
    [ "$(id -u)" -eq 0 ] || sandbox_skip "needs root for debootstrap and chroot"
    for tool in debootstrap unshare flock oathtool dpkg-deb; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
    done
    for package in "${packages[@]}"; do
        [ -n "$(deb_of "$package")" ] || { echo "FAIL: no $package .deb in $deb_dir (packaging.build_debs)"; exit 1; }
    done
    mapfile -t needed < <(root_packages)
    LIFECYCLE_TARBALL=$(debian_root_tarball "${needed[@]}") || {
        echo "FAIL: could not make the Debian 12 minbase system"
        exit 1
    }
    export LIFECYCLE_TARBALL
    before=$(host_snapshot)
    sandbox_run_and_count "$@"
    check "host dpkg status, users, pam.d, security, pam-configs and mounts are unchanged" \
        test "$before" = "$(host_snapshot)"
    finish
fi

# ----- from here on: in the private mount namespace -----
root=$SANDBOX_DIR
mount -t tmpfs -o mode=0755 pam_totp-lifecycle "$root"
tar -C "$root" -xzf "$LIFECYCLE_TARBALL" || { echo "FAIL: could not unpack $LIFECYCLE_TARBALL"; exit 1; }
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=0755 pam_totp-lifecycle "$root/run"
mkdir -m 1777 "$root/run/lock"
mount -t tmpfs -o mode=1777 pam_totp-lifecycle "$root/tmp"
echo "--- a minimal Debian 12 from $(basename "$LIFECYCLE_TARBALL")"

# in_root COMMAND...: COMMAND in the system, with a clean environment.
in_root() {
    chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"
}
# pkg COMMAND...: a package operation as unattended upgrades run them (no terminal, no
# questions); sets $out (stdout and stderr) and $rc.
pkg() {
    out=$(in_root DEBIAN_FRONTEND=noninteractive "$@" </dev/null 2>&1)
    rc=$?
}
status_of() { in_root dpkg-query -W -f='${db:Status-Abbrev}${Version}' "$1" 2>/dev/null; }
installed() { # PACKAGE VERSION: installed and configured at VERSION (whatever dpkg's
    # selection: a refused removal leaves it at "remove"); else says what it is
    local now
    now=$(status_of "$1")
    [ "${now:1:1} ${now:3}" = "i $2" ] || { echo "    $1 is \"$now\"" && return 1; }
}

# ---- packages: the ones under test and higher versions with a changed conffile
arch=$(dpkg --print-architecture)
version=$(dpkg-deb -f "$(deb_of libpam-totp)" Version)
mkdir -p "$root/debs/$version"
for package in "${packages[@]}"; do cp "$(deb_of "$package")" "$root/debs/$version/"; done
# repack NEW_VERSION [old]: the packages as version NEW_VERSION, whose conffile has one
# more comment line, in /debs/NEW_VERSION. With "old", like the versions before 0.2.0:
# the conffile says "nullok = yes" and the postinst writes no roll-out state.
repack() {
    local new=$1 old=${2:-} package tree conf=etc/security/pam_totp.conf
    mkdir -p "$root/debs/$new"
    for package in "${packages[@]}"; do
        tree=$root/tmp/repack
        rm -rf "$tree"
        dpkg-deb -R "$(deb_of "$package")" "$tree"
        sed -i "s/^Version: .*/Version: $new/; s/(= $version)/(= $new)/g" "$tree/DEBIAN/control"
        if [ -f "$tree/$conf" ]; then
            sed -i "1a # (the $new packages changed this comment)" "$tree/$conf"
            if [ -n "$old" ]; then
                sed -i 's/^#nullok = no$/nullok = yes/' "$tree/$conf"
                sed -i 's/^\( *\)write_rollout_state rollout$/\1:/' "$tree/DEBIAN/postinst"
            fi
            sed -i "s|^[0-9a-f]*  $conf\$|$(cd "$tree" && md5sum "$conf")|" "$tree/DEBIAN/md5sums"
        fi
        dpkg-deb -b -Zgzip "$tree" "$root/debs/$new/${package}_${new}_$arch.deb" >/dev/null
    done
    rm -rf "$tree"
}
v2=$version+lifecycle2 v3=$version+lifecycle3 v4=$version+lifecycle4
for new in "$v2" "$v3" "$v4"; do repack "$new"; done
v_old=0.1.0+lifecycle
repack "$v_old" old
# install_version VERSION [DPKG_OPTION...]: dpkg -i of the packages at VERSION, with
# debconf's developer log (the questions put to it: the noninteractive frontend shows a
# note to nobody); sets $out and $rc.
install_version() {
    local v=$1 package debs=()
    shift
    for package in "${packages[@]}"; do debs+=("/debs/$v/${package}_${v}_$arch.deb"); done
    pkg env DEBCONF_DEBUG=developer dpkg -i "$@" "${debs[@]}"
}

# ---- logins
conf=/etc/security/pam_totp.conf
rollout=/etc/security/pam_totp.rollout
state=/var/lib/pam_totp
unknown_module=0
# login USER PASSWORD [CODE]: pamtester authenticates USER on the service $LOGIN_SERVICE,
# by default "lifecycle" (common-auth, as login, su, sudo and sshd include it); the
# answers in the order asked. Sets $out and $rc.
login() {
    out=$(printf '%s\n%s\n' "$2" "${3:-}" |
        in_root pamtester "${LOGIN_SERVICE:-lifecycle}" "$1" authenticate 2>&1)
    rc=$?
    if grep -q 'Module is unknown' <<<"$out"; then
        unknown_module=$((unknown_module + 1))
        echo "    (login of $1: $out)"
    fi
}
code_for() { "$system_lib/totp-code" "$(secret_of "$1")" "$root$state/$1"; }
secret_of() { "$system_lib/state-field" "$root$state/$1" secret; }
wrong_code_for() { "$system_lib/wrong-code" "$(secret_of "$1")"; }

# logins_need_codes ENFORCED: an enrolled user (each in turn: a code must be newer than the
# user's last one, and eight users keep the test from waiting for the clock to give one a
# new step) gets in with password + code and not with a wrong code;
# unenrolled erin gets in with her password alone unless ENFORCED is yes.
enrolled=(alice bob carol dave frank grace heidi ivan)
logins_need_codes() {
    local user=${enrolled[0]}
    enrolled=("${enrolled[@]:1}" "$user")
    login "$user" "$user-Passw0rd" "$(wrong_code_for "$user")"
    check "  $user: password + wrong code is refused" test "$rc" -ne 0
    login "$user" "$user-Passw0rd" "$(code_for "$user")"
    check "  $user: password + code logs in" test "$rc" -eq 0
    login erin erin-Passw0rd ""
    if [ "$1" = yes ]; then
        check "  erin (not enrolled) is refused" test "$rc" -ne 0
    else
        check "  erin (not enrolled) logs in with her password" test "$rc" -eq 0
    fi
    check "  no login failed with \"Module is unknown\"" test "$unknown_module" -eq 0
}
# logins_without_module: pam_totp is out of the stack; passwords alone log in.
logins_without_module() {
    login alice alice-Passw0rd ""
    check "  alice logs in with her password alone" test "$rc" -eq 0
    login alice wrong-Passw0rd ""
    check "  a wrong password is refused" test "$rc" -ne 0
    check "  no login failed with \"Module is unknown\"" test "$unknown_module" -eq 0
}
rollout_state() { sed -n '/^[[:space:]]*[^#[:space:]]/p' "$root$rollout" 2>/dev/null; }

echo "--- the system: users alice, bob, ... ivan (they will enroll), erin (never enrolls)"
for user in "${enrolled[@]}" erin; do
    in_root useradd --create-home --shell /bin/bash "$user"
    echo "$user:$user-Passw0rd" | in_root chpasswd
done
cp "$root/etc/pam.d/common-auth" "$root/tmp/common-auth.stock"
printf '@include common-auth\n' >"$root/etc/pam.d/lifecycle"
logins_without_module

echo "--- install"
install_version "$version"
check "dpkg -i installs the packages" test "$rc" -eq 0
for package in "${packages[@]}"; do check "  $package is configured" installed "$package" "$version"; done
check "the roll-out state is written: rollout" test "$(rollout_state)" = rollout
check "  root 0644, not a conffile" test "$(stat -c %U:%a "$root$rollout")" = root:644 \
    -a -z "$(in_root dpkg-query -W -f='${Conffiles}' libpam-totp | grep rollout)"
check "the shipped config sets no nullok" test -z "$(grep -E '^[[:space:]]*nullok' "$root$conf")"
check "pam_totp is in common-auth" grep -q pam_totp.so "$root/etc/pam.d/common-auth"
check_no_output "no note about common-auth" "NOT in /etc/pam.d/common-auth" "$out"
check_no_output "  none through debconf either" "libpam-totp/not-in-common-auth" "$out"

logins_without_module

echo "--- enroll alice, bob, ... ivan (totp-enroll import-oath)"
for user in "${enrolled[@]}"; do
    printf 'HOTP/T30 %s - %s\n' "$user" "$(openssl rand -hex 20)"
done >"$root/tmp/users.oath"
out=$(in_root totp-enroll import-oath /tmp/users.oath 2>&1)
rc=$?
state_files=$(ls "$root$state" | wc -l)
check "totp-enroll import-oath enrolls all of them" test "$rc" -eq 0 -a "$state_files" -eq ${#enrolled[@]}
logins_need_codes no

echo "--- enforce"
out=$(in_root totp-enroll enforce 2>&1)
check "totp-enroll enforce refuses while erin can log in without being enrolled" test $? -ne 0
check_output "  and names her" "erin" "$out"
check "  the state stays rollout" test "$(rollout_state)" = rollout
out=$(in_root totp-enroll enforce --force 2>&1)
check "totp-enroll enforce --force enforces" test $? -eq 0 -a "$(rollout_state)" = enforce
logins_need_codes yes

echo "--- upgrade non-interactively (stdin /dev/null, no --force-conf*)"
install_version "$v2"
check "the upgrade to $v2 succeeds" test "$rc" -eq 0
for package in "${packages[@]}"; do check "  $package is configured" installed "$package" "$v2"; done
check "  the new conffile is in place" grep -qF "(the $v2 packages changed this comment)" "$root$conf"
check "  enforcement is kept" test "$(rollout_state)" = enforce
logins_need_codes yes

echo "--- upgrade with --force-confnew after the admin edited the conffile"
sed -i 's/^#max_failures = 5$/max_failures = 6/' "$root$conf"
install_version "$v3" --force-confnew
check "the upgrade to $v3 succeeds" test "$rc" -eq 0
for package in "${packages[@]}"; do check "  $package is configured" installed "$package" "$v3"; done
check "  the new conffile replaced the admin's" grep -qF "(the $v3 packages changed this comment)" "$root$conf"
check "  enforcement is kept" test "$(rollout_state)" = enforce
logins_need_codes yes

echo "--- upgrade with --force-confold, while rolling out again"
in_root totp-enroll rollout >/dev/null 2>&1
check "totp-enroll rollout lets unenrolled users in again" test "$(rollout_state)" = rollout
sed -i 's/^#max_failures = 5$/max_failures = 6/' "$root$conf"
install_version "$v4" --force-confold
check "the upgrade to $v4 succeeds" test "$rc" -eq 0
for package in "${packages[@]}"; do check "  $package is configured" installed "$package" "$v4"; done
check "  the admin's conffile is kept" grep -qx 'max_failures = 6' "$root$conf"
check "  and the new one is beside it" test -f "$root$conf.dpkg-dist"
check "  the roll-out state is kept" test "$(rollout_state)" = rollout
logins_need_codes no
in_root totp-enroll enforce --force >/dev/null 2>&1
check "enforced again" test "$(rollout_state)" = enforce
latest=$v4

# remove_all: dpkg -r of the three packages (the dependent ones go first); sets $out, $rc.
remove_all() { pkg env "$@" dpkg -r totp-enroll libpam-totp-postgresql libpam-totp; }
reinstall() { install_version "$latest"; }

echo "--- remove while a hand-edited common-auth names the module"
sed -i 's/^\(auth[[:space:]].*pam_totp\.so.*\)$/# site policy: codes for everyone\n\1/' \
    "$root/etc/pam.d/common-auth"
remove_all
check "the removal fails" test "$rc" -ne 0
check "  libpam-totp stays installed" installed libpam-totp "$latest"
check "  and so does its module" test -f "$(echo "$root"/lib/*/security/pam_totp.so)"
check_output "  the refusal lists common-auth" "/etc/pam.d/common-auth:" "$out"
check_output "  says what to do" "Take pam_totp.so out of each of them" "$out"
check_output "  and how to override" "PAM_TOTP_FORCE_REMOVE=1 apt remove libpam-totp" "$out"
logins_need_codes yes
reinstall
sed -i '/pam_totp\.so/d' "$root/etc/pam.d/common-auth"
remove_all
check "once the admin took the line out, the removal succeeds" test "$rc" -eq 0
check "  libpam-totp is removed" test "$(status_of libpam-totp | cut -c1-2)" = rc
logins_without_module

echo "--- install next to a hand-edited common-auth"
reinstall
check "the install succeeds" test "$rc" -eq 0
check "  pam-auth-update left common-auth alone" test -z "$(grep pam_totp "$root/etc/pam.d/common-auth")"
check_output "  the admin is told that logins do not ask for codes" \
    "pam_totp is NOT in /etc/pam.d/common-auth" "$out"
check_output "  and the line to add" "    auth required pam_totp.so" "$out"
check_output "  the debconf note is put up at high priority" "INPUT high libpam-totp/not-in-common-auth" "$out"
login alice alice-Passw0rd ""
check "  (as said: alice gets in with her password alone)" test "$rc" -eq 0
sed -i '/^auth.*pam_permit\.so/a auth required pam_totp.so' "$root/etc/pam.d/common-auth"
echo "the admin adds the line after the password block, as the note says:"
logins_need_codes yes
cp "$root/tmp/common-auth.stock" "$root/etc/pam.d/common-auth"
in_root DEBIAN_FRONTEND=noninteractive pam-auth-update --package --enable totp
check "back to the stock common-auth, managed by pam-auth-update" \
    grep -q pam_totp.so "$root/etc/pam.d/common-auth"

echo "--- remove while /etc/pam.d/sshd names the module (public key + code)"
printf '@include common-account\nauth required pam_permit.so\nauth required pam_totp.so\n' \
    >"$root/etc/pam.d/sshd"
remove_all
check "the removal fails" test "$rc" -ne 0
check "  libpam-totp stays installed" installed libpam-totp "$latest"
check_output "  the refusal lists /etc/pam.d/sshd" "/etc/pam.d/sshd:3: pam_totp.so" "$out"
check_output "  says what to do" "put \"@include common-auth\" back" "$out"
check "  pam_totp is back in common-auth" grep -q pam_totp.so "$root/etc/pam.d/common-auth"
logins_need_codes yes
LOGIN_SERVICE=sshd login alice "$(code_for alice)"
check "  alice: code alone logs in through /etc/pam.d/sshd (the key is sshd's part)" test "$rc" -eq 0
reinstall
remove_all PAM_TOTP_FORCE_REMOVE=1
check "with PAM_TOTP_FORCE_REMOVE=1 the removal goes ahead" test "$rc" -eq 0
check_output "  with a warning" "PAM_TOTP_FORCE_REMOVE=1: removing anyway" "$out"
check "  pam_totp is out of common-auth" test -z "$(grep pam_totp "$root/etc/pam.d/common-auth")"
logins_without_module
rm "$root/etc/pam.d/sshd"
reinstall
check "reinstalled" installed libpam-totp "$latest"
check "  enforcement is kept" test "$(rollout_state)" = enforce
logins_need_codes yes

echo "--- remove the PostgreSQL backend while the config selects it"
cp "$root$conf" "$root/tmp/conf.saved"
sed -i 's/^#store = files$/store = postgresql/' "$root$conf"
pkg dpkg -r libpam-totp-postgresql
check "the removal fails" test "$rc" -ne 0
check "  the backend stays installed" installed libpam-totp-postgresql "$latest"
check_output "  the refusal says why" "selects store = postgresql" "$out"
check_output "  and what to do" "totp-enroll migrate --to files" "$out"
check_output "  and how to override" "PAM_TOTP_FORCE_REMOVE=1 apt remove libpam-totp-postgresql" "$out"
cp "$root/tmp/conf.saved" "$root$conf"
pkg dpkg -r libpam-totp-postgresql
check "with store = files again, it is removed" test "$rc" -eq 0
logins_need_codes yes
reinstall

echo "--- delete the config and reinstall: the roll-out state decides"
in_root totp-enroll rollout >/dev/null 2>&1
rm "$root$conf"
reinstall
check "the reinstall succeeds" test "$rc" -eq 0
check "  dpkg does not bring the deleted conffile back" test ! -e "$root$conf"
logins_need_codes no
in_root totp-enroll enforce --force >/dev/null 2>&1
logins_need_codes yes

echo "--- purge and reinstall"
pkg dpkg --purge totp-enroll libpam-totp-postgresql libpam-totp
check "purge succeeds" test "$rc" -eq 0
check "  the enrollments are deleted" test ! -e "$root$state"
check "  the roll-out state is deleted" test ! -e "$root$rollout"
logins_without_module
reinstall
check "the reinstall succeeds" test "$rc" -eq 0
check "  a fresh roll-out state: rollout" test "$(rollout_state)" = rollout
login alice alice-Passw0rd ""
check "  alice, enrolled no more, logs in with her password" test "$rc" -eq 0
login erin erin-Passw0rd ""
check "  and so does erin" test "$rc" -eq 0

# from_old_version: purge, then install the pre-0.2.0 packages and enroll the users again.
from_old_version() {
    pkg dpkg --purge totp-enroll libpam-totp-postgresql libpam-totp
    install_version "$v_old"
    check "$v_old (nullok in the conffile, no roll-out state) installs" \
        test "$rc" -eq 0 -a ! -e "$root$rollout" -a -n "$(grep -x 'nullok = yes' "$root$conf")"
    in_root totp-enroll import-oath /tmp/users.oath >/dev/null 2>&1
}
echo "--- upgrade non-interactively from a version that kept nullok = yes in the conffile"
from_old_version
logins_need_codes no
install_version "$version"
check "the upgrade to $version succeeds" test "$rc" -eq 0
check "  the new conffile (no nullok) replaced the unchanged old one" \
    test -z "$(grep -E '^[[:space:]]*nullok' "$root$conf")"
check "  the preinst carried nullok = yes over: rollout" test "$(rollout_state)" = rollout
logins_need_codes no

echo "--- upgrade with --force-confnew from a version whose conffile the admin set to nullok = no"
from_old_version
sed -i 's/^nullok = yes$/nullok = no/' "$root$conf"
logins_need_codes yes
install_version "$version" --force-confnew
check "the upgrade to $version succeeds" test "$rc" -eq 0
check "  the new conffile (no nullok) replaced the admin's" \
    test -z "$(grep -E '^[[:space:]]*nullok' "$root$conf")"
check "  the preinst carried nullok = no over: enforce" test "$(rollout_state)" = enforce
logins_need_codes yes
check "no login failed with \"Module is unknown\" in any step" test "$unknown_module" -eq 0
finish
