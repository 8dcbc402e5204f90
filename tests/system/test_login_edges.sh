#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The second factor at the system's edges, with the real pam_unix, a real passwd/shadow
# and the real totp-enroll, in a sandbox:
#  - a second passwd/shadow line sharing an enrolled account's uid (an alias) must not log
#    in with the password alone under nullok, and its codes are the account's;
#  - with the documented forward_pass stack, wrong passwords never count as failed codes,
#    so someone without the password cannot lock the user out.
#   test_login_edges.sh PAM_TOTP_SO TOTP_ENROLL
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/sandbox.sh"
. "$here/lib/check.sh"
sandbox_enter "$@"

module=$1 tool=$2
for need in expect oathtool pamtester; do
    command -v "$need" >/dev/null || { echo "FAIL: $need is not installed (scripts/install-deps.sh)"; exit 1; }
done

sandbox_setup
state=/var/lib/pam_totp
export TOTP_WINDOW=3
sandbox_write_file /etc/security/pam_totp.conf 0644 root:root <<CONF
[global]
nullok = yes
window = $TOTP_WINDOW
max_failures = 2
CONF
sandbox_pam_service totp-login <<STACK
auth    [success=1 default=ignore]  pam_unix.so
auth    requisite                   pam_deny.so
auth    required                    pam_permit.so
auth    required                    $module
account required                    pam_permit.so
STACK
sandbox_pam_service totp-forward <<STACK
auth    requisite   $module forward_pass
auth    requisite   pam_unix.so use_first_pass
auth    required    $module
account required    pam_permit.so
STACK
sandbox_add_user alice 'alice-Passw0rd'
# The alias: a second passwd and shadow line with alice's uid, gid, home and password hash.
uid=$(id -u alice)
echo "alias:x:$uid:$uid:alias of alice:$SANDBOX_ROOT/home/alice:/bin/bash" >>/etc/passwd
echo "alias:$(getent shadow alice | cut -d: -f2-)" >>/etc/shadow
check "the alias resolves to alice's uid" test "$(id -u alias)" = "$uid"

secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
"$tool" --user alice --no-confirm --secret "$secret" --qr none </dev/null >/dev/null 2>&1
check "root enrolls alice" test -f "$state/alice"

preload=$(ldd "$module" | awk '/libasan/ {print $3}')
preload=${preload:+$preload:libcrypt.so.1}
# pam SERVICE USER: pamtester authenticate, prompts answered by lib/drive.exp; sets $out, $rc.
pam() {
    DRIVE_SECRET=$secret DRIVE_STATE=$state/alice \
        expect -f "$here/lib/drive.exp" env ${preload:+LD_PRELOAD=$preload} pamtester "$1" "$2" authenticate \
        >"$SANDBOX_ROOT/transcript" 2>&1
    rc=$?
    out=$(tr -d '\r' <"$SANDBOX_ROOT/transcript")
}
field() { "$here/lib/state-field" "$state/alice" "$1"; }

echo "--- another name for alice's account"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=wrong pam totp-login alias
check "alias with alice's password and a wrong code is refused" test "$rc" -ne 0
check_output "the code was asked for" "Verification code: " "$out"
check "no record was made for the alias" test ! -e "$state/alias"
check "the wrong code counted for alice" test "$(field failures)" = 1
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right pam totp-login alias
check "alias with alice's current code logs in" test "$rc" -eq 0
check_output "pamtester reports success" "successfully authenticated" "$out"
step_used=$(field last_step)
check "the code was spent in alice's record" test "$step_used" != none
used_code=$(oathtool --totp -b -N "@$((step_used * 30))" "$secret")
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=$used_code pam totp-login alice
check "alice cannot replay the code used under the alias" test "$rc" -ne 0

status_out=$("$tool" status alias 2>&1)
check "totp-enroll status under the alias shows alice's enrollment" test $? -eq 0
check_output "status names the account" "alice" "$status_out"

echo "--- forward_pass: wrong passwords never count"
"$tool" unlock --user alice >/dev/null 2>&1
before=$(field failures)
for attempt in 1 2 3 4 5; do
    DRIVE_PASSWORD=not-her-password DRIVE_VERIFY=wrong pam totp-forward alice
    check "wrong password $attempt is refused" test "$rc" -ne 0
done
check "no failure was counted for alice" test "$(field failures)" = "$before"
check "alice is not locked out" test "$(field locked_until)" = 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right pam totp-forward alice
check "alice logs in with password and code in one answer" test "$rc" -eq 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=wrong pam totp-forward alice
check "the right password with a wrong code is refused" test "$rc" -ne 0
check "that wrong code counted" test "$(field failures)" = 1

finish
