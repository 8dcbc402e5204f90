#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The authselect profile (packaging/authselect), rendered for each feature set by
# authselect_render.py (authselect's documented template syntax; authselect is not packaged
# for Debian), gives stacks totp-check finds clean with with-totp: the code is asked after a
# successful password in sshd, login, su and sudo of an RPM distribution's layout. Without
# with-totp no code is asked; broken variants of the template are reported.
#   check_authselect_profile.sh TOTP_CHECK SOURCE_DIR WORK_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../system/lib/check.sh"
tool=$1 src=$2 work=$3
profile=$src/packaging/authselect
data=$src/tests/check/data
render() { /usr/bin/python3 "$here/authselect_render.py" "$@"; }
rm -rf "$work" && mkdir -p "$work"

# root NAME PROFILE_DIR FEATURE...: an RPM distribution's layout (Fedora's sshd, login, su
# and sudo) with the profile's files as `authselect select` writes them.
root() {
    local root=$work/$1 dir=$2 file module
    shift 2
    mkdir -p "$root/etc/pam.d" "$root/etc/ssh/sshd_config.d" "$root/etc/security"
    cp "$data"/rpm/{sshd,login,su,sudo} "$root/etc/pam.d/"
    for file in system-auth password-auth postlogin fingerprint-auth smartcard-auth; do
        render "$dir/$file" "$@" >"$root/etc/pam.d/$file"
    done
    cp "$data/debian12/ssh/sshd_config" "$root/etc/ssh/"
    cp "$src/config/sshd/pam_totp.conf" "$root/etc/ssh/sshd_config.d/00-pam_totp.conf"
    install -m 0644 "$src/config/pam_totp.conf" "$root/etc/security/pam_totp.conf"
    install -d -m 0700 "$root/var/lib/pam_totp"
    # The modules the stacks name (empty: totp-check only asks whether libpam finds them).
    mkdir -p "$root/lib/x86_64-linux-gnu/security"
    for module in $(cat "$root"/etc/pam.d/* | grep -o 'pam_[a-z0-9_]*\.so' | sort -u); do
        : >"$root/lib/x86_64-linux-gnu/security/$module"
    done
    printf '%s\n' 'root:x:0:0:root:/root:/bin/bash' >"$root/etc/passwd"
    echo "$root"
}

# run ROOT: sets out and rc.
run() {
    out=$("$tool" --root "$1" 2>&1)
    rc=$?
}

check "the renderer follows the documented syntax" test "$(render /dev/stdin with-a with-c <<'EOF'
x {if "with-a" and ("with-b" or "with-c"):yes|no} {if not "with-a":never}
{imply "with-d" if "with-a"}
kept {include if "with-d"}
gone {exclude if "with-a" or "with-b"}
{stop if "with-b"}
{continue if "with-c"}
last
{continue if "with-b"}
dropped
EOF
)" = "$(printf 'x yes\nkept\nlast\n')"

check "the profile's features: with-totp, with-faillock, without-nullok" \
    test "$(render --features "$profile"/* | tr '\n' ' ')" = "with-faillock with-totp without-nullok "
first_line=$(head -1 "$profile/README")
check "the README's first line names the profile" grep -q 'pam_totp' <<<"$first_line"

for features in "with-totp" "with-totp with-faillock" "with-totp without-nullok" \
    "with-totp with-faillock without-nullok"; do
    # shellcheck disable=SC2086 # one word per feature
    root=$(root "${features// /_}" "$profile" $features)
    run "$root"
    check "$features: totp-check finds no way around the code (exit 0)" test "$rc" -eq 0
    check_output "$features: sshd, login, su, sudo checked" "services checked: sshd, login, su, sudo" "$out"
    check_output "$features: nothing found" "no way around the verification code found" "$out"
done
check_output "with-totp: the code comes after a password that succeeded (jump over the deny)" \
    "$(printf 'auth        [success=1 default=ignore]                   pam_unix.so nullok\nauth        requisite                                    pam_deny.so\nauth        required                                     pam_totp.so')" \
    "$(cat "$work/with-totp/etc/pam.d/system-auth")"

for features in "" "with-faillock"; do
    # shellcheck disable=SC2086
    root=$(root "plain${features:+_$features}" "$profile" $features)
    run "$root"
    check "without with-totp (${features:-no features}): no code is asked (exit 1)" test "$rc" -eq 1
    check_output "without with-totp (${features:-no features}): sudo runs no pam_totp" \
        "sudo: no pam_totp line checks the code" "$out"
done

# Broken variants of the template must be caught: pam_totp after a sufficient pam_unix,
# and a jump that skips pam_totp when pam_faillock's line is left out.
broken=$work/broken-sufficient
cp -r "$profile" "$broken"
sed -i 's/\[success={if "with-faillock":2|1} default=ignore\]/sufficient/' "$broken"/*-auth
run "$(root sufficient "$broken" with-totp)"
check "pam_totp after a sufficient pam_unix: reported (exit 1)" test "$rc" -eq 1
check_output "pam_totp after a sufficient pam_unix: the stack ends before the code" \
    "pam_unix.so sufficient ends the stack on PAM_SUCCESS before pam_totp" "$out"

broken=$work/broken-jump
cp -r "$profile" "$broken"
sed -i 's/{if "with-faillock":2|1}/2/' "$broken"/*-auth
run "$(root jump "$broken" with-totp)"
check "a jump over pam_totp: reported (exit 1)" test "$rc" -eq 1
check_output "a jump over pam_totp: the path in sshd is shown" \
    "sshd: password-auth line 3 pam_unix.so [success=2 default=ignore] jumps on PAM_SUCCESS over pam_totp" "$out"
finish
