#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# totp-check on a catalogue of configurations: Debian 12's own pam.d with the package's
# profile (clean), RPM distributions' authselect profiles, and broken variants, each a root
# given with --root; every finding must name the service, the line and the way around.
#   check_catalogue.sh TOTP_CHECK SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
tool=$1
src=$2
data=$here/data
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# common_files ROOT: what every root has besides pam.d: the modules, sshd with the shipped
# drop-in, the shipped pam_totp.conf, a state directory where alice is enrolled, three login
# accounts.
common_files() {
    local root=$1
    mkdir -p "$root/etc/ssh/sshd_config.d" "$root/etc/security" "$root/var/lib"
    cp "$data/debian12/ssh/sshd_config" "$root/etc/ssh/"
    cp "$src/config/sshd/pam_totp.conf" "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
    install -m 0644 "$src/config/pam_totp.conf" "$root/etc/security/pam_totp.conf"
    install -d -m 0700 "$root/var/lib/pam_totp"
    install -m 0600 /dev/null "$root/var/lib/pam_totp/alice"
    # The modules the stacks name (empty files: totp-check only asks whether libpam finds them).
    mkdir -p "$root/lib/x86_64-linux-gnu/security"
    local module
    for module in $(cat "$data"/debian12/pam.d/* "$data"/rpm/* "$data"/authselect/* |
        grep -o 'pam_[a-z0-9_]*\.so' | sort -u) pam_totp.so pam_echo.so; do
        : > "$root/lib/x86_64-linux-gnu/security/$module"
    done
    printf '/bin/sh\n/bin/bash\n' > "$root/etc/shells"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/bash' 'daemon:x:1:1::/:/usr/sbin/nologin' \
        'alice:x:1001:1001::/home/alice:/bin/bash' 'bob:x:1002:1002::/home/bob:/bin/sh' \
        > "$root/etc/passwd"
}

# debian_root NAME: Debian 12 after installing the package: pam-auth-update has put the
# profile's line (Additional, priority 128) after pam_permit, before pam_cap (priority 0).
debian_root() {
    local root=$work/$1
    mkdir -p "$root/etc/pam.d"
    cp "$data/debian12/pam.d/"* "$root/etc/pam.d/"
    sed -i 's/^auth\toptional\t\t\tpam_cap.so/auth\trequired\t\t\tpam_totp.so\n&/' \
        "$root/etc/pam.d/common-auth"
    common_files "$root"
    echo "$root"
}

# rpm_root NAME PROFILE: an RPM distribution's layout with authselect's PROFILE.
rpm_root() {
    local root=$work/$1
    mkdir -p "$root/etc/pam.d"
    cp "$data/rpm/"* "$root/etc/pam.d/"
    cp "$data/authselect/$2-system-auth" "$root/etc/pam.d/system-auth"
    cp "$data/authselect/$2-password-auth" "$root/etc/pam.d/password-auth"
    common_files "$root"
    echo "$root"
}

# run ROOT [ARGS]: sets out and rc.
run() {
    local root=$1
    shift
    out=$("$tool" --root "$root" "$@" 2>&1)
    rc=$?
}

# --- clean configurations
root=$(debian_root clean)
run "$root"
check "Debian 12 with the package's profile: exit 0" test "$rc" -eq 0
check_output "Debian 12: nothing found" "no way around the verification code found" "$out"
check_output "Debian 12: every login service checked" \
    "services checked: sshd, login, su, su-l, sudo, sudo-i, other, chfn, chsh, runuser, runuser-l" "$out"
check_no_output "Debian 12: su's pam_rootok (root only) is not a finding" "su:" "$out"

root=$(debian_root forward_pass_stack)
printf '%s\n' 'auth requisite pam_totp.so forward_pass' 'auth requisite pam_unix.so use_first_pass' \
    'auth required pam_totp.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "the documented forward_pass stack is clean" test "$rc" -eq 0

for profile in local sssd; do
    root=$(rpm_root "rpm_${profile}_totp" "$profile")
    if [ "$profile" = local ]; then
        # docs/admin-guide.md (RPM): in place of the sufficient pam_unix line (keeping the lines before it).
        for file in system-auth password-auth; do
            sed -i '/^auth .*pam_deny.so/d; s/^auth  *sufficient  *pam_unix.so nullok$/auth [success=1 default=ignore] pam_unix.so nullok\nauth requisite pam_deny.so\nauth required pam_totp.so/' \
                "$root/etc/pam.d/$file"
        done
    else
        for file in system-auth password-auth; do
            sed -i 's/^auth  *sufficient  *pam_unix.so nullok$/auth [success=3 default=ignore] pam_unix.so nullok/; s/^auth  *sufficient  *pam_sss.so forward_pass$/auth [success=1 default=ignore] pam_sss.so forward_pass/; s/^auth  *required  *pam_deny.so$/auth requisite pam_deny.so\nauth required pam_totp.so/' \
                "$root/etc/pam.d/$file"
        done
    fi
    run "$root"
    check "authselect $profile with pam_totp placed correctly: exit 0" test "$rc" -eq 0
    check_output "authselect $profile: sshd, login, su, sudo checked" \
        "services checked: sshd, login, su, sudo" "$out"
done

# --- RPM system-auth as shipped
for profile in local sssd; do
    root=$(rpm_root "rpm_$profile" "$profile")
    run "$root" --service sudo
    check "authselect $profile as shipped: exit 1" test "$rc" -eq 1
    check_output "authselect $profile as shipped: no code is asked" \
        "sudo: no pam_totp line checks the code" "$out"
    # The usual mistake: pam_totp added right after the sufficient pam_unix line.
    sed -i 's/^auth  *sufficient  *pam_unix.so nullok$/&\nauth required pam_totp.so/' \
        "$root/etc/pam.d/system-auth" "$root/etc/pam.d/password-auth"
    run "$root"
    check "authselect $profile with pam_totp after sufficient pam_unix: exit 1" test "$rc" -eq 1
    check_output "authselect $profile: sufficient pam_unix ends the stack before pam_totp" \
        "sudo: system-auth line 3 pam_unix.so sufficient ends the stack on PAM_SUCCESS before pam_totp on line 4" \
        "$(sed "s/line [0-9]* pam_unix/line 3 pam_unix/; s/pam_totp on line [0-9]*/pam_totp on line 4/" <<<"$out")"
    check_output "authselect $profile: sshd's substack password-auth is named" \
        "sshd: password-auth line" "$out"
    check_output "authselect $profile: the path shows the substack line" "sshd:2 substack" "$out"
done

# --- broken variants of Debian's stack
root=$(debian_root unix_sufficient)
sed -i 's/^auth\t\[success=1 default=ignore\]\tpam_unix.so nullok/auth\tsufficient\tpam_unix.so nullok/' \
    "$root/etc/pam.d/common-auth"
run "$root"
check "pam_unix sufficient before pam_totp: exit 1" test "$rc" -eq 1
check_output "pam_unix sufficient: sshd's path in words" \
    "sshd: common-auth line 17 pam_unix.so sufficient ends the stack on PAM_SUCCESS before pam_totp on line 25" "$out"
check_output "pam_unix sufficient: the path names the include line" "sshd:4 includes" "$out"

root=$(debian_root totp_optional)
sed -i 's/^auth\trequired\t\t\tpam_totp.so/auth\toptional\tpam_totp.so/' "$root/etc/pam.d/common-auth"
run "$root" --service login
check "pam_totp optional: exit 1" test "$rc" -eq 1
check_output "pam_totp optional: its failure is ignored" \
    "login: common-auth line 25 pam_totp.so optional returns PAM_AUTH_ERR and the stack still succeeds" "$out"

root=$(debian_root permit_at_top)
sed -i '1i auth sufficient pam_permit.so' "$root/etc/pam.d/sudo"
run "$root"
check "pam_permit sufficient at the top of sudo: exit 1" test "$rc" -eq 1
check_output "pam_permit sufficient: sudo's path" \
    "sudo: sudo line 1 pam_permit.so sufficient ends the stack on PAM_SUCCESS before pam_totp on common-auth line 25" "$out"
check_no_output "pam_permit sufficient in sudo: login is not reported" "login:" "$out"

root=$(debian_root no_common_auth)
printf '%s\n' 'auth required pam_unix.so' 'account required pam_unix.so' > "$root/etc/pam.d/vpn"
run "$root"
check "a service without common-auth: exit 1" test "$rc" -eq 1
check_output "a service without common-auth is found and reported" \
    "vpn: no pam_totp line checks the code" "$out"

root=$(debian_root done_trick)
sed -i 's/^@include common-auth/auth [success=done default=ignore] pam_unix.so\n&/' "$root/etc/pam.d/sshd"
run "$root" --service sshd
check "[success=done default=ignore] before common-auth: exit 1" test "$rc" -eq 1
check_output "[success=done]: ends the stack before the code" \
    "sshd: sshd line 4 pam_unix.so [success=done default=ignore] ends the stack on PAM_SUCCESS before pam_totp on common-auth line 25" "$out"

root=$(debian_root jump_trick)
sed -i 's/^auth\t\[success=1 default=ignore\]\tpam_unix.so nullok/auth\t[success=3 default=ignore]\tpam_unix.so nullok/' \
    "$root/etc/pam.d/common-auth"
run "$root" --service sudo
check "a jump over pam_totp: exit 1" test "$rc" -eq 1
check_output "a jump over pam_totp: named" \
    "sudo: common-auth line 17 pam_unix.so [success=3 default=ignore] jumps on PAM_SUCCESS over pam_totp on line 25" "$out"

root=$(debian_root substack_done)
printf '%s\n' 'auth sufficient pam_unix.so' 'auth requisite pam_deny.so' > "$root/etc/pam.d/password-check"
printf '%s\n' 'auth substack password-check' 'auth required pam_totp.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check_no_output "substack: a done inside does not end the parent stack" "ends the stack" "$out"
# ... and neither does pam_deny's die: the parent goes on to the code after a wrong password.
check_output "substack: a die inside does not stop the parent from asking the code" \
    "vpn: password-check line 1 pam_unix.so sufficient lets a wrong password go on to the code check on vpn line 2" "$out"
sed -i 's/substack/include/' "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "include: the same done ends the whole stack" test "$rc" -eq 1
check_output "include: sufficient in the included file ends the stack" \
    "vpn: password-check line 1 pam_unix.so sufficient ends the stack on PAM_SUCCESS before pam_totp on vpn line 2" "$out"

root=$(debian_root succeed_if)
sed -i 's/^@include common-auth/auth [success=done default=ignore] pam_succeed_if.so user ingroup nototp\n&/' \
    "$root/etc/pam.d/sshd"
run "$root" --service sshd
check "a pam_succeed_if exemption: exit 1" test "$rc" -eq 1
check_output "pam_succeed_if: reported with its condition" \
    "sshd: when pam_succeed_if user ingroup nototp:" "$out"

root=$(debian_root require_group)
printf '[global]\nrequire_group = totp\n' > "$root/etc/security/pam_totp.conf"
run "$root" --service sudo
check "require_group: exit 1" test "$rc" -eq 1
check_output "require_group: users outside it, as a condition" \
    "sudo: when the user is not in require_group totp: common-auth line 25 pam_totp.so required returns PAM_IGNORE and the stack still succeeds" "$out"

root=$(debian_root unix_required)
printf '%s\n' 'auth required pam_unix.so' 'auth required pam_totp.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "pam_unix only required before pam_totp: exit 1" test "$rc" -eq 1
check_output "required pam_unix: a wrong password reaches the code check" \
    "vpn: vpn line 1 pam_unix.so required lets a wrong password go on to the code check on line 2" "$out"

root=$(debian_root forward_pass_alone)
printf '%s\n' 'auth requisite pam_totp.so forward_pass' 'auth required pam_unix.so use_first_pass' \
    > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "forward_pass without a checking line: exit 1" test "$rc" -eq 1
check_output "forward_pass without a checking line: named" \
    "vpn: vpn line 1 pam_totp.so forward_pass splits off the code but no later pam_totp line checks it" "$out"

sed -i 's/^auth\trequired\t\t\tpam_totp.so/& forward_pass=yes/' "$root/etc/pam.d/common-auth"
run "$root" --service sudo
check "forward_pass=yes on the only pam_totp line: exit 1" test "$rc" -eq 1
check_output "forward_pass=yes is read as the module reads it" \
    "sudo: no pam_totp line checks the code" "$out"

root=$(debian_root nullok)
printf '[global]\nnullok = yes\n' > "$root/etc/security/pam_totp.conf"
run "$root"
check "nullok = yes: exit 1" test "$rc" -eq 1
check_output "nullok: the accounts that are not enrolled are counted" \
    "nullok is on: users who have not enrolled log in without a code: 2 of the 3 accounts with a login shell have not enrolled" "$out"
check_output "nullok: reported on the service as nullok, not as a bypass" \
    "sshd: with nullok, a user who has not enrolled gets in without a code (common-auth line 25" "$out"
check_no_output "nullok: no bypass reported" "ends the stack" "$out"

root=$(debian_root nullok_argument)
sed -i 's/^auth\trequired\t\t\tpam_totp.so/& nullok/' "$root/etc/pam.d/common-auth"
run "$root"
check "nullok as a module argument: exit 1" test "$rc" -eq 1
check_output "nullok as a module argument: the accounts that are not enrolled are counted" \
    "nullok is on: users who have not enrolled log in without a code: 2 of the 3 accounts with a login shell have not enrolled [common-auth:25]" "$out"
printf '[global]\nnullok = yes\n' > "$root/etc/security/pam_totp.conf"
run "$root"
check "nullok in the file and as an argument, one state directory: counted once" \
    test "$(grep -c "nullok is on" <<<"$out")" -eq 1

root=$(debian_root config_unsafe)
chmod 0666 "$root/etc/security/pam_totp.conf"
printf '[global]\nno_such_key = 1\n' > "$work/unknown.conf"
run "$root"
check "a world-writable config: exit 1" test "$rc" -eq 1
check_output "a world-writable config: reported" "/etc/security/pam_totp.conf" "$out"
chmod 0644 "$root/etc/security/pam_totp.conf"
printf '[global]\nno_such_key = 1\n' > "$root/etc/security/pam_totp.conf"
run "$root"
check "an unknown key: exit 1" test "$rc" -eq 1
check_output "an unknown key: reported" "no_such_key" "$out"

# --- the module in no login stack, and the rollout file
root=$(debian_root no_totp_in_common_auth)
sed -i '/pam_totp.so/d' "$root/etc/pam.d/common-auth"
run "$root"
check "common-auth without pam_totp: exit 1" test "$rc" -eq 1
check_output "common-auth without pam_totp: the line to add and where" \
    "no login stack runs pam_totp after the password: logins on this host do not ask for a code; add the line 'auth required pam_totp.so' to /etc/pam.d/common-auth after line 23 (the end of the password block) [common-auth:23]" "$out"
root=$(debian_root totp_before_password)
sed -i '/pam_totp.so/d; 0,/^auth/s//auth\trequired\tpam_totp.so\n&/' "$root/etc/pam.d/common-auth"
run "$root"
check_output "pam_totp only before the password: not a login stack that runs it" \
    "no login stack runs pam_totp after the password" "$out"
root=$(rpm_root rpm_local_no_totp local)
run "$root"
check_output "RPM without pam_totp: each login stack named" \
    "add the line 'auth required pam_totp.so' to /etc/pam.d/system-auth" "$out"

root=$(debian_root rollout_mode)
printf '# rollout\nrollout\n' > "$root/etc/security/pam_totp.rollout"
run "$root"
check "rollout file saying rollout: exit 1" test "$rc" -eq 1
check_output "rollout file saying rollout: the mode is reported" \
    "rollout mode: rollout (/etc/security/pam_totp.rollout): users who have not enrolled log in with their password alone" "$out"
check_output "rollout file saying rollout: the accounts that are not enrolled are counted" \
    "nullok is on: users who have not enrolled log in without a code: 2 of the 3 accounts with a login shell have not enrolled" "$out"
printf 'enforce\n' > "$root/etc/security/pam_totp.rollout"
printf '[global]\nnullok = yes\n' > "$root/etc/security/pam_totp.conf"
run "$root"
check "rollout file saying enforce over nullok = yes: exit 0" test "$rc" -eq 0
check_output "rollout file saying enforce: the mode is reported" \
    "rollout mode: enforce (/etc/security/pam_totp.rollout): users who have not enrolled are refused" "$out"
printf 'rollout\nenforcing\n' > "$root/etc/security/pam_totp.rollout"
run "$root"
check "a rollout file with garbage: exit 1" test "$rc" -eq 1
check_output "a rollout file with garbage: the file and line are named" \
    "rollout file $root/etc/security/pam_totp.rollout, line 2: expected 'rollout' or 'enforce' (pam_totp refuses every login)" "$out"
printf 'rollout\n' > "$root/etc/security/pam_totp.rollout"
printf '[global]\nsecret_path = ~/.pam_totp\n' > "$root/etc/security/pam_totp.conf"
run "$root"
check "a rollout file saying rollout with secret_path: exit 1" test "$rc" -eq 1
check_output "a rollout file saying rollout with secret_path: every login fails" \
    "the rollout file's 'rollout' (nullok, /etc/security/pam_totp.rollout) with secret_path: pam_totp refuses every login through this line (PAM_SERVICE_ERR), root's sudo and su included; run totp-enroll enforce, or roll out with require_group [common-auth:25]" "$out"
install -m 0644 "$src/config/pam_totp.conf" "$root/etc/security/pam_totp.conf"
chmod 0664 "$root/etc/security/pam_totp.rollout"
run "$root"
check "a group-writable rollout file: exit 1" test "$rc" -eq 1
check_output "a group-writable rollout file: reported" \
    "pam_totp.rollout: writable by group or other (pam_totp refuses every login)" "$out"

root=$(debian_root state_dir_open)
chmod 0755 "$root/var/lib/pam_totp"
run "$root"
check "a state directory others can read: exit 1" test "$rc" -eq 1
check_output "a state directory others can read: reported" "with mode 0755; it must be root's, mode 0700 or 0711" "$out"
chmod 0711 "$root/var/lib/pam_totp"
run "$root"
check_no_output "a state directory others can only search (0711): no finding" "state directory is owned" "$out"

# --- lines libpam reads differently from an editor
root=$(debian_root long_comment)
{ printf '# comment'; printf '%1100s' ''; printf 'auth sufficient pam_permit.so\n'; } > "$root/etc/pam.d/vpn"
printf 'auth required pam_unix.so\nauth required pam_totp.so\n' >> "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "a line past libpam's 1023-byte buffer: exit 1" test "$rc" -eq 1
check_output "its tail is read as a line of its own (libpam 1.5's fgets)" \
    "vpn: vpn line 1 pam_permit.so sufficient ends the stack on PAM_SUCCESS before pam_totp on line 3" "$out"
check_output "the long line is named" "vpn: vpn line 1 is 1138 bytes long" "$out"

# --- "other" and included files are services too
root=$(debian_root other_permit)
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/other"
printf '%s\n' '@include common-auth' '@include other' > "$root/etc/pam.d/chfn"
run "$root"
check "a sufficient pam_permit in other, which chfn includes: exit 1" test "$rc" -eq 1
check_output "other is checked even when another file includes it" \
    "other: no pam_totp line checks the code" "$out"
root=$(debian_root included_service)
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/vsftpd"
printf '%s\n' 'auth include vsftpd' > "$root/etc/pam.d/zz-unused"
run "$root"
check_output "a service some other file includes is checked" \
    "vsftpd: no pam_totp line checks the code" "$out"
check_output "library files are skipped with a note" "common-auth" "$(grep '^note:' <<<"$out")"
root=$(debian_root vendor_service)
mkdir -p "$root/usr/lib/pam.d"
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/usr/lib/pam.d/cockpit"
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/usr/lib/pam.d/sudo"
run "$root"
check_output "a service only in /usr/lib/pam.d is checked" \
    "cockpit: no pam_totp line checks the code" "$out"
check_no_output "/etc/pam.d wins over /usr/lib/pam.d" "sudo: sudo line 1 pam_permit" "$out"

# --- what cannot be followed fully is exit 2, never a clean 0
root=$(debian_root include_chain)
for i in $(seq 1 39); do printf 'auth include f%d\n' $((i + 1)) > "$root/etc/pam.d/f$i"; done
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/f40"
printf '%s\n' 'auth include f1' '@include common-auth' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check_output "a chain of 40 includes is followed to its end" \
    "vpn: f40 line 1 pam_permit.so sufficient ends the stack" "$out"
check "a chain deeper than libpam 1.6 follows: exit 2" test "$rc" -eq 2
printf '%s\n' 'auth optional pam_echo.so hi' '@include loop' > "$root/etc/pam.d/loop"
printf '%s\n' '@include common-auth' '@include loop' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "an include loop: exit 2" test "$rc" -eq 2
root=$(debian_root sshd_not_in_path)
out=$(PATH=/nonexistent "$tool" --service other 2>&1)
check_no_output "sshd -T runs sshd by its full path, not through \$PATH" "not found" "$out"

# --- pam_rootok: only where the caller is not root is its success root's alone
root=$(debian_root rootok_sshd)
sed -i '1i auth sufficient pam_rootok.so' "$root/etc/pam.d/sshd"
run "$root" --service sshd
check "pam_rootok in sshd (which runs as root): exit 1" test "$rc" -eq 1
check_output "pam_rootok in sshd: every ssh login gets in" \
    "sshd: sshd line 1 pam_rootok.so sufficient ends the stack on PAM_SUCCESS before pam_totp on common-auth line 25" "$out"

# --- Debian's @include, in any case; a missing one fails the service
root=$(debian_root include_upper_case)
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/shortcut"
printf '%s\n' '@INCLUDE shortcut' '@include common-auth' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "@INCLUDE: exit 1" test "$rc" -eq 1
check_output "@INCLUDE is followed like @include" \
    "vpn: shortcut line 1 pam_permit.so sufficient ends the stack on PAM_SUCCESS before pam_totp on common-auth line 25" "$out"
printf '%s\n' '@include no-such-file' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check_output "a missing @include: libpam cannot set the service up" \
    "vpn: libpam cannot set the service up" "$out"

# --- modules libpam cannot load return PAM_MODULE_UNKNOWN, whatever their name
root=$(debian_root module_not_found)
printf '%s\n' 'auth required pam_unix.so' 'auth [success=ignore default=1] /lib/security/pam_permit.so' \
    'auth required pam_totp.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "a pam_permit path libpam cannot load: exit 1" test "$rc" -eq 1
check_output "a pam_permit path libpam cannot load: its default jumps over pam_totp" \
    "vpn: vpn line 2 /lib/security/pam_permit.so [success=ignore default=1] jumps on PAM_MODULE_UNKNOWN over pam_totp on line 3" "$out"
printf 'auth required pam_unix.so\nauth [success=ignore default=1] pam_permit.so\r\nauth required pam_totp.so\n' \
    > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "pam_permit.so followed by a carriage return: exit 1" test "$rc" -eq 1
check_output "a carriage return is part of the module's name, as in libpam" \
    "jumps on PAM_MODULE_UNKNOWN over pam_totp on line 3" "$out"
printf '%s\n' '-auth sufficient pam_nonexistent.so' 'auth [success=1 default=ignore] pam_unix.so' \
    'auth requisite pam_deny.so' 'auth required pam_totp.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "-auth with a module that is not installed is no way in: exit 0" test "$rc" -eq 0
rm "$root/lib/x86_64-linux-gnu/security/pam_totp.so"
run "$root" --service vpn
check "pam_totp.so not installed: no way in either (every login fails): exit 0" test "$rc" -eq 0

# --- pam_totp is trusted by its name: a note where it is not the module directory's
root=$(debian_root totp_elsewhere)
mkdir -p "$root/opt/other"
: > "$root/opt/other/pam_totp.so"
printf '%s\n' 'auth [success=1 default=ignore] pam_unix.so' 'auth requisite pam_deny.so' \
    'auth required /opt/other/pam_totp.so' > "$root/etc/pam.d/vpn"
run "$root" --service vpn
check "pam_totp loaded from another directory: a note, not a finding (exit 0)" test "$rc" -eq 0
check_output "pam_totp loaded from another directory: the note names the line and both paths" \
    "note: vpn line 3 loads /opt/other/pam_totp.so, not /lib/x86_64-linux-gnu/security/pam_totp.so: totp-check takes it to be pam_totp" \
    "$out"
sed -i 's|/opt/other/pam_totp.so|/lib/x86_64-linux-gnu/security/pam_totp.so|' "$root/etc/pam.d/vpn"
run "$root" --service vpn
check_no_output "pam_totp named by the module directory's full path: no note" "takes it to be pam_totp" "$out"
run "$root"
check_no_output "pam_totp named without a directory: no note" "takes it to be pam_totp" "$out"

# --- sshd
root=$(debian_root sshd_publickey)
sed -i 's/^AuthenticationMethods .*/AuthenticationMethods publickey/' \
    "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
run "$root"
check "AuthenticationMethods publickey: exit 1" test "$rc" -eq 1
check_output "AuthenticationMethods publickey: a key alone logs in" \
    "sshd: AuthenticationMethods allows publickey alone: that ssh login is never asked for a code" "$out"
check_output "AuthenticationMethods publickey: root with a key alone" \
    "sshd: PermitRootLogin prohibit-password: root logs in over ssh with a key alone" "$out"

root=$(debian_root sshd_no_pam)
sed -i 's/^UsePAM yes/UsePAM no/' "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
run "$root"
check "UsePAM no: exit 1" test "$rc" -eq 1
check_output "UsePAM no: named with its file" \
    "sshd: UsePAM no: sshd checks passwords itself and never runs the PAM stack" "$out"

root=$(debian_root sshd_stock)
rm "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
run "$root"
check "Debian's stock sshd_config: exit 1" test "$rc" -eq 1
check_output "stock sshd: KbdInteractiveAuthentication no" \
    "sshd: KbdInteractiveAuthentication no: the PAM conversation that asks for the code is off" "$out"
check_output "stock sshd: password without keyboard-interactive can never ask for the code" \
    "sshd: AuthenticationMethods allows password without keyboard-interactive: sshd answers every PAM question, the code's too, with the password, so an enrolled user is never asked for the code and cannot log in this way" "$out"
check_output "stock sshd: a key alone skips the code" \
    "sshd: AuthenticationMethods allows publickey alone: that ssh login is never asked for a code" "$out"
check_output "stock sshd: root with a key alone (PermitRootLogin's default)" \
    "sshd: PermitRootLogin prohibit-password: root logs in over ssh with a key alone" "$out"

root=$(debian_root sshd_match)
printf 'Match User deploy\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
run "$root"
check "a Match block allowing a key alone: exit 1" test "$rc" -eq 1
check_output "a Match block: named" \
    "sshd (Match User deploy): AuthenticationMethods allows publickey alone" "$out"

root=$(debian_root sshd_match_user)
printf 'Match User alice\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
run "$root"
check_output "Match User alice: alice's key alone is named" \
    "sshd (Match User alice): AuthenticationMethods allows publickey alone" "$out"
check_no_output "Match User alice: no root finding from a block that cannot apply to root" \
    "root logs in over ssh with a key alone" "$out"
printf 'Match User *,!alice\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
run "$root"
check_output "Match User *,!alice applies to root: the root finding" \
    "sshd (Match User *,!alice): PermitRootLogin prohibit-password: root logs in over ssh with a key alone" "$out"
root=$(debian_root sshd_match_address_root)
printf 'Match Address 10.0.0.0/8\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
run "$root"
check_output "Match Address applies to root too: the root finding" \
    "sshd (Match Address 10.0.0.0/8): PermitRootLogin prohibit-password: root logs in" "$out"

root=$(debian_root sshd_match_all)
printf 'Match all\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
run "$root"
check_output "Match all overrides the global settings" \
    "sshd (Match all): AuthenticationMethods allows publickey alone" "$out"

root=$(debian_root sshd_quoted)
sed -i 's/^AuthenticationMethods .*/AuthenticationMethods "publickey"/' \
    "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
run "$root"
check_output "a quoted value is read as sshd reads it" \
    "sshd: AuthenticationMethods allows publickey alone" "$out"
root=$(debian_root sshd_comment)
sed -i 's/^\(KbdInteractiveAuthentication yes\)/\1 # the code/' \
    "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
run "$root"
check_no_output "a trailing comment is not part of the value" "KbdInteractiveAuthentication no" "$out"

# --- sshd without --root: sshd -T for the global settings, the files for the Match blocks.
# run_default_mode ROOT [ARGS]: totp-check without --root in a private mount namespace where
# ROOT's /etc/ssh, /etc/pam.d and /etc/security are bound over the host's and /run is a
# private tmpfs (sshd -T needs /run/sshd); the host's files are never touched. Sets out and
# rc; rc 77 when there is no namespace or no sshd.
run_default_mode() {
    local root=$1
    shift
    if [ ! -x /usr/sbin/sshd ] || ! unshare --mount --propagation private true 2>/dev/null; then
        out="no private mount namespace or no /usr/sbin/sshd"
        rc=77
        return
    fi
    [ -e "$root/etc/ssh/ssh_host_ed25519_key" ] ||
        ssh-keygen -q -t ed25519 -N '' -f "$root/etc/ssh/ssh_host_ed25519_key"
    out=$(unshare --mount --propagation private -- sh -c '
        root=$1 tool=$2
        shift 2
        for dir in ssh pam.d security; do mount --bind "$root/etc/$dir" "/etc/$dir" || exit 99; done
        mount -t tmpfs -o mode=0755 private-run /run && mkdir /run/sshd || exit 99
        exec "$tool" "$@"' sh "$root" "$tool" "$@" 2>&1)
    rc=$?
}
# check_default_mode NAME ROOT NEEDLE: NEEDLE is in the default mode's report (skipped with a
# line saying why where the namespace or sshd is missing).
check_default_mode() {
    local name=$1 root=$2 needle=$3
    run_default_mode "$root" --service sshd
    if [ "$rc" -eq 77 ]; then
        echo "skip - $name: $out"
        return
    fi
    check "$name: exit 1" test "$rc" -eq 1
    check_output "$name: named" "$needle" "$out"
}

root=$(debian_root sshd_t_clean)
run_default_mode "$root" --service sshd
if [ "$rc" -ne 77 ]; then
    check_no_output "sshd -T of the shipped drop-in: no sshd finding" "sshd (" "$out"
    check_no_output "sshd -T of the shipped drop-in: no AuthenticationMethods finding" \
        "AuthenticationMethods allows" "$out"
fi
root=$(debian_root sshd_t_match_address)
printf 'Match Address 10.0.0.0/8\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
check_default_mode "without --root, a Match Address block allowing a key alone" "$root" \
    "sshd (Match Address 10.0.0.0/8): AuthenticationMethods allows publickey alone"
root=$(debian_root sshd_t_match_group)
printf 'Match Group sudo\n    AuthenticationMethods publickey\n' >> "$root/etc/ssh/sshd_config"
check_default_mode "without --root, a Match Group block allowing a key alone" "$root" \
    "sshd (Match Group sudo): AuthenticationMethods allows publickey alone"
root=$(debian_root sshd_t_match_included)
printf 'Match User deploy\n    AuthenticationMethods publickey\n' \
    > "$root/etc/ssh/sshd_config.d/50-deploy.conf"
check_default_mode "without --root, a Match block in an included file" "$root" \
    "sshd (Match User deploy): AuthenticationMethods allows publickey alone"

# --- output and exit codes
root=$(debian_root json)
sed -i '1i auth sufficient pam_permit.so' "$root/etc/pam.d/sudo"
out=$("$tool" --root "$root" --json)
check "--json: exit 1 on a finding" test $? -eq 1
check "--json: valid JSON" python3 -c 'import json,sys; json.loads(sys.argv[1])' "$out"
printf '%s\n' 'auth required pam_unix.so' > "$root/etc/pam.d/vpn"
out=$("$tool" --root "$root" --service vpn --json)
check "--json: a service without pam_totp is reported in its own file" python3 -c '
import json, sys
report = json.loads(sys.argv[1])
assert [f for f in report["findings"] if f["service"] == "vpn"][0]["file"] == "vpn"' "$out"
out=$("$tool" --root "$root" --json)
check "--json: the finding's kind, file and line" python3 -c '
import json, sys
report = json.loads(sys.argv[1])
finding = [f for f in report["findings"] if f["service"] == "sudo"][0]
assert report["status"] == 1 and finding["kind"] == "bypass"
assert finding["file"] == "sudo" and finding["line"] == 1, finding' "$out"

root=$(debian_root json_bytes)
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/$(printf 'vpn\377')"
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/$(printf 'vpn\303\251')"
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/$(printf 'vpn\355\240\200')"
printf '%s\n' 'auth sufficient pam_permit.so' > "$root/etc/pam.d/$(printf 'vpn\342\202')"
"$tool" --root "$root" --json > "$work/bytes.json"
check "--json: file names that are not UTF-8 still give valid UTF-8 JSON" python3 -c '
import json, sys
report = json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))
assert "vpn\u00ff" in report["services"], report["services"]
assert "vpn\u00e9" in report["services"], report["services"]
assert "vpn\u00ed\u00a0\u0080" in report["services"], "a UTF-16 surrogate is not UTF-8"
assert "vpn\u00e2\u0082" in report["services"], "a cut sequence"' "$work/bytes.json"

run "$work/nothing-here"
check "no pam.d: exit 2" test "$rc" -eq 2
check_output "no pam.d: says so" "cannot read $work/nothing-here/etc/pam.d" "$out"

out=$("$tool" --no-such-option 2>&1)
check "an unknown option: exit 2" test $? -eq 2

root=$(debian_root read_only)
before=$(cd "$root" && find . -printf '%p %m %s %T@\n' | sort)
run "$root"
after=$(cd "$root" && find . -printf '%p %m %s %T@\n' | sort)
check "totp-check changes nothing under the root" test "$before" = "$after"

finish
