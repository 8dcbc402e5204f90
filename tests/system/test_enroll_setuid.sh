#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# totp-enroll installed setuid root, run by real unprivileged users through the real PAM
# stack (pam_unix + pam_totp, service file config/pam.d/totp-enroll) in a sandbox:
# a user can enroll only themselves, options that would change the user, the config or
# the secret are refused, re-enrolling (and adding or removing an authenticator) needs a
# current code, the caller's environment cannot redirect the tool, and a login with the
# new code works.
#   test_enroll_setuid.sh PAM_TOTP_SO TOTP_ENROLL SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/sandbox.sh"
. "$here/lib/check.sh"
sandbox_enter "$@"

module=$1 tool=$2 source_dir=$3
for need in expect oathtool pamtester; do
    command -v "$need" >/dev/null || { echo "FAIL: $need is not installed (scripts/install-deps.sh)"; exit 1; }
done
for built in "$module" "$tool"; do
    [ -f "$built" ] || { echo "FAIL: $built is not built"; exit 1; }
done
if [ ! -f "$source_dir/config/pam.d/totp-enroll" ]; then
    echo "FAIL: $source_dir/config/pam.d/totp-enroll (the shipped PAM service) is missing"
    exit 1
fi

sandbox_setup
state=/var/lib/pam_totp
# A window of 3 steps lets the consecutive logins below use fresh (non-replayed) codes
# without waiting for the clock; lib/totp-code picks them.
export TOTP_WINDOW=3
sandbox_write_file /etc/security/pam_totp.conf 0644 root:root <<EOF
[global]
issuer = SandboxIssuer
window = $TOTP_WINDOW
EOF
sed "s#\(^\|[[:space:]]\)pam_totp\.so#\1$module#" "$source_dir/config/pam.d/totp-enroll" |
    sandbox_pam_service totp-enroll
sandbox_pam_service totp-login <<EOF
auth    [success=1 default=ignore]  pam_unix.so
auth    requisite                   pam_deny.so
auth    required                    pam_permit.so
auth    required                    $module
account required                    pam_permit.so
EOF
for user in alice bob carol dave; do
    sandbox_add_user "$user" "$user-Passw0rd"
done
enroll=$(sandbox_install_setuid "$tool") || exit 1
# A sanitizer build's module needs its runtime preloaded into pamtester, and libcrypt
# with it: ASan wraps crypt(3) but finds the real one only among the libraries loaded at
# startup, so pam_unix (dlopened later) would call through a null pointer.
preload=$(ldd "$module" | awk '/libasan/ {print $3}')
preload=${preload:+$preload:libcrypt.so.1}

# drive_as USER COMMAND...: COMMAND as USER (clean environment) on a terminal, prompts
# answered by lib/drive.exp from the DRIVE_* variables; sets $out (transcript) and $rc.
drive_as() {
    sandbox_as_argv "$1"
    shift
    expect -f "$here/lib/drive.exp" "${SANDBOX_AS_ARGV[@]}" "$@" >"$SANDBOX_ROOT/transcript" 2>&1
    rc=$?
    out=$(tr -d '\r' <"$SANDBOX_ROOT/transcript")
}

# login USER: pamtester through totp-login as root; sets $out and $rc.
login() {
    expect -f "$here/lib/drive.exp" env ${preload:+LD_PRELOAD=$preload} pamtester totp-login "$1" authenticate \
        >"$SANDBOX_ROOT/transcript" 2>&1
    rc=$?
    out=$(tr -d '\r' <"$SANDBOX_ROOT/transcript")
}

store_snapshot() {
    ls -lAn --time-style=+%s.%N "$state"
    (cd "$state" && find . -type f -exec sha256sum {} +)
}

current_secret() { "$here/lib/state-field" "$state/$1" secret 2>/dev/null; }
printed_secret() { sed -n 's/^Secret: //p' <<<"$out" | tr -d ' ' | tail -1; }
recovery_codes() {
    sed -n '/^Recovery codes (each works once; store them safely):$/,$p' <<<"$out" |
        grep -E '^[[:alnum:]]{4}-[[:alnum:]]{4}-[[:alnum:]]{4}$'
}

echo "--- root provisions bob (admin path)"
bob_secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
"$enroll" --user bob --no-confirm --secret "$bob_secret" --qr none </dev/null >/dev/null 2>&1
check "root can provision another user with --no-confirm --secret" test $? -eq 0
check "bob's record holds the imported secret" test "$(current_secret bob)" = "$bob_secret"

echo "--- (b) an unprivileged user cannot reach other users, paths or secrets"
evil=$SANDBOX_ROOT/tmp/evil
mkdir -m 0755 "$evil" "$evil/bin"
mkdir -m 0777 "$evil/markers"
mkdir -m 0700 "$evil/state"
sandbox_write_file "$evil/pam_totp.conf" 0644 root:root <<EOF
[global]
state_dir = $evil/state
issuer = EvilIssuer
EOF
printf '%s\n" TOTP_AUTH\n" STEP_SIZE 30\n12345678\n' "$bob_secret" |
    sandbox_write_file "$evil/google_authenticator" 0644 alice:alice
before=$(store_snapshot)
refused() {
    local name=$1
    shift
    DRIVE_PASSWORD=alice-Passw0rd DRIVE_ENROLL=right drive_as alice "$enroll" "$@"
    check "$name: exit 3" test "$rc" -eq 3
    check "$name: nothing written to the store" test "$before" = "$(store_snapshot)"
    check "$name: nothing written to the other state dir" test -z "$(ls -A "$evil/state")"
    check_no_output "$name: no enrollment shown" "otpauth://" "$out"
}
refused "--user bob" --user bob
refused "--config FILE" --config "$evil/pam_totp.conf"
refused "--secret BASE32" --secret "$bob_secret"
refused "--no-confirm" --no-confirm
refused "status of another user" status bob
check_no_output "status bob shows nothing of bob's record" "SHA1" "$out"
refused "remove --user bob" remove --user bob
refused "unlock --user bob" unlock --user bob
refused "list" list
refused "recovery-codes --user bob" recovery-codes --user bob
refused "import-google-authenticator --user bob" import-google-authenticator --user bob "$evil/google_authenticator"
check "bob's secret is still the one root gave" test "$(current_secret bob)" = "$bob_secret"

echo "--- (a) alice enrolls herself"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_ENROLL=right drive_as alice "$enroll"
check "self-enrollment exits 0" test "$rc" -eq 0
check_order "password, then URI, secret, code prompt, activation, recovery codes" "$out" \
    "Password: " "otpauth://" "Secret: " "Enter the code from your app: " "Enrollment active." \
    "Recovery codes (each works once; store them safely):"
before_uri=${out%%otpauth://*}
check "a UTF-8 QR code is printed before the URI" grep -qF -e '▀' -e '▄' <<<"${before_uri#*Password: }"
alice_old=$(printed_secret)
uri=$(grep '^otpauth://' <<<"$out" | head -1)
check "the URI is a TOTP URI for alice" grep -qE '^otpauth://totp/[^?]*alice' <<<"$uri"
check "the URI carries the printed secret" grep -qF "secret=$alice_old" <<<"$uri"
check "the issuer comes from root's pam_totp.conf" grep -qF "issuer=SandboxIssuer" <<<"$uri"
check "the secret is printed in groups of four" \
    grep -qE '^Secret: [A-Z2-7]{4}( [A-Z2-7]{1,4})+$' <<<"$(grep '^Secret: ' <<<"$out")"
check "10 recovery codes are printed" test "$(recovery_codes | wc -l)" -eq 10
check_no_output "neither password nor code is echoed" "DRIVE-ECHO-LEAK" "$out"
check "alice's state file is root:root 0600" test "$(stat -c %U:%G:%a "$state/alice" 2>&1)" = root:root:600
check "it holds the printed secret" test "$(current_secret alice)" = "$alice_old"
check "the store is still root 0700" test "$(stat -c %U:%a "$state")" = root:700
check "no temporary files are left in the store" test "$(ls -A "$state" | tr '\n' ' ')" = "alice bob "
DRIVE_PASSWORD=alice-Passw0rd drive_as alice "$enroll" status
check "alice may see her own status" test "$rc" -eq 0

echo "--- (e) the caller's environment cannot redirect the setuid tool"
for name in sh bash hostname uname stty tput cat id getent sendmail qrencode oathtool unix_chkpwd; do
    printf '#!/bin/sh\ntouch %s/%s\nexit 1\n' "$evil/markers" "$name" >"$evil/bin/$name"
    chmod 0755 "$evil/bin/$name"
done
evil_preload=
if command -v cc >/dev/null; then
    printf '#include <fcntl.h>\n#include <unistd.h>\n__attribute__((constructor)) static void mark(void) { close(open("%s/preload", O_WRONLY | O_CREAT, 0666)); }\n' \
        "$evil/markers" | cc -shared -fPIC -x c -o "$evil/preload.so" - && evil_preload=$evil/preload.so
fi
hostile=(env "PATH=$evil/bin:/usr/bin:/bin" "HOME=$evil" "PAM_TOTP_CONFIG=$evil/pam_totp.conf"
    "TOTP_CONFIG=$evil/pam_totp.conf" "TOTP_ENROLL_CONFIG=$evil/pam_totp.conf"
    "TOTP_STATE_DIR=$evil/state" "PAM_TOTP_STATE_DIR=$evil/state" "LD_LIBRARY_PATH=$evil"
    "IFS=/" ${evil_preload:+"LD_PRELOAD=$evil_preload"})
if [ -n "$evil_preload" ]; then
    sandbox_as carol "${hostile[@]}" /bin/true
    check "control: the preload library runs in a program that is not setuid" test -e "$evil/markers/preload"
    rm -f "$evil/markers/preload"
fi
DRIVE_PASSWORD=carol-Passw0rd DRIVE_ENROLL=right drive_as carol "${hostile[@]}" "$enroll"
check "enrollment under a hostile environment exits 0" test "$rc" -eq 0
check "carol's record is in the real store" test -f "$state/carol"
check "nothing went to the state_dir named by the environment" test -z "$(ls -A "$evil/state")"
check_output "the issuer still comes from root's pam_totp.conf" "issuer=SandboxIssuer" "$out"
check "no program from the caller's PATH ran, no LD_PRELOAD library loaded" \
    test -z "$(ls -A "$evil/markers")"
ls -A "$evil/markers" | sed 's/^/    ran: /'

echo "--- (e) without its setuid rights (no_new_privs) the tool refuses cleanly"
DRIVE_PASSWORD=dave-Passw0rd DRIVE_ENROLL=right drive_as dave setpriv --no-new-privs "$enroll"
check "exit is 1 or 3, not a crash" test "$rc" -eq 1 -o "$rc" -eq 3
check "no record for dave" test ! -e "$state/dave"
check_no_output "no enrollment is reported active" "Enrollment active." "$out"

echo "--- (c) re-enrolling needs the password and a current code"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=wrong DRIVE_SECRET=$alice_old drive_as alice "$enroll"
check "a wrong current code: exit 3" test "$rc" -eq 3
check_output "pam_totp asked for the current code" "Verification code: " "$out"
check_no_output "a wrong current code: no new secret shown" "otpauth://" "$out"
check "a wrong current code: the old secret stays" test "$(current_secret alice)" = "$alice_old"

DRIVE_PASSWORD=not-alices-password DRIVE_VERIFY=right DRIVE_SECRET=$alice_old DRIVE_STATE=$state/alice \
    drive_as alice "$enroll"
check "a wrong password, even with a right code: exit 3" test "$rc" -eq 3
check "a wrong password: the old secret stays" test "$(current_secret alice)" = "$alice_old"

DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_old DRIVE_STATE=$state/alice \
    DRIVE_ENROLL=wrong drive_as alice "$enroll"
check "three wrong confirmation codes: exit 5" test "$rc" -eq 5
check "the tool said so each time" test "$(grep -c '^That code is not correct\.' <<<"$out")" -ge 3
check "three wrong confirmation codes: the old secret stays" test "$(current_secret alice)" = "$alice_old"

DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_old DRIVE_STATE=$state/alice \
    DRIVE_ENROLL=right drive_as alice "$enroll"
alice_new=$(printed_secret)
check "the current code from the old secret allows re-enrolling: exit 0" test "$rc" -eq 0
check "a new secret was issued" test -n "$alice_new" -a "$alice_new" != "$alice_old"
check "the store now holds the new secret" test "$(current_secret alice)" = "$alice_new"
check "still root:root 0600" test "$(stat -c %U:%G:%a "$state/alice")" = root:root:600
recovery=$(recovery_codes | head -1)

echo "--- (d) logging in through pam_unix + pam_totp"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_new DRIVE_STATE=$state/alice login alice
check "the new secret's code logs in" test "$rc" -eq 0
check_output "pamtester reports success" "successfully authenticated" "$out"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_old DRIVE_STATE=$state/alice login alice
check "the old secret's code no longer logs in" test "$rc" -ne 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=$recovery login alice
check "a recovery code printed at re-enrollment logs in" test "$rc" -eq 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=$recovery login alice
check "the same recovery code does not work twice" test "$rc" -ne 0
DRIVE_PASSWORD=bob-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$bob_secret DRIVE_STATE=$state/bob login bob
check "bob, provisioned by root, logs in" test "$rc" -eq 0

echo "--- (f) another authenticator, self-service: the password and a current code first"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=wrong DRIVE_SECRET=$alice_new drive_as alice "$enroll" \
    add --name spare --qr none
check "add with a wrong current code: exit 3" test "$rc" -eq 3
check_no_output "a wrong current code: no new secret shown" "Secret: " "$out"
check "a wrong current code: nothing added" test -z "$(grep -a 'authenticator=spare:' "$state/alice")"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_new DRIVE_STATE=$state/alice \
    DRIVE_ENROLL=right drive_as alice "$enroll" add --name spare --qr none
spare=$(printed_secret)
check "add with the current code, confirmed from the new key: exit 0" test "$rc" -eq 0
check "the spare has a secret of its own" test -n "$spare" -a "$spare" != "$alice_new"
# The confirmation used the spare's current step: the next login needs a later one, which
# totp-code picks from a record whose first authenticator is the spare.
spare_line=$(tr -s '\n' <"$state/alice" | grep -a '^authenticator=spare:' | tail -1)
printf 'pam_totp-state v2\nsequence=1\n%s\nchecksum=-\n' "$spare_line" >"$SANDBOX_ROOT/spare.state"
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$spare \
    DRIVE_STATE=$SANDBOX_ROOT/spare.state login alice
check "the spare's code logs in" test "$rc" -eq 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_new DRIVE_STATE=$state/alice \
    drive_as alice "$enroll" remove --name spare
check "alice removes the spare herself: exit 0" test "$rc" -eq 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$spare \
    DRIVE_STATE=$SANDBOX_ROOT/spare.state login alice
check "the removed spare no longer logs in" test "$rc" -ne 0
DRIVE_PASSWORD=alice-Passw0rd DRIVE_VERIFY=right DRIVE_SECRET=$alice_new DRIVE_STATE=$state/alice \
    drive_as alice "$enroll" remove --name default
check "the last authenticator is not removed: exit 2" test "$rc" -eq 2
check "alice still has her secret" test "$(current_secret alice)" = "$alice_new"

echo "--- (e) a broken root-only configuration tells a user nothing of its text"
cp -p /etc/security/pam_totp.conf "$SANDBOX_ROOT/pam_totp.conf.saved"
chmod 0600 /etc/security/pam_totp.conf
printf 'hunter2-secret-key = 1\n' >>/etc/security/pam_totp.conf
drive_as alice "$enroll" status
check "a user's totp-enroll refuses a broken config: exit 1" test "$rc" -eq 1
check "the key's name is not shown to the user" test "$(grep -c hunter2 <<<"$out")" -eq 0
check_output "the user is told only root can fix it" "only root can see and fix" "$out"
root_out=$("$enroll" status 2>&1)
check_output "root is told which key, section and line" "hunter2-secret-key" "$root_out"
cp -p "$SANDBOX_ROOT/pam_totp.conf.saved" /etc/security/pam_totp.conf
finish
