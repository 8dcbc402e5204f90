#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pam_totp run by unprivileged processes (pamtester as real users, as a screen locker or a
# VPN daemon runs PAM) through the setuid helper totp-verify, installed at the path the
# module was built with, in a sandbox: the right code logs in, a wrong or replayed one does
# not; a user cannot check (or count failures against) another user's code, through the
# module or by running the helper; a service account in verify_helper_group can, and not
# after it leaves the group; the rate limit and lockout hold across helper runs; the
# caller's environment changes nothing; every decision is logged with the caller's uid; a
# real screen locker (i3lock under Xvfb, typed into with xdotool) unlocks with password and
# code and not with a wrong code; and a program at the helper's path that does not give
# the helper's answer (no newline, a second line, killed, silent, "no" with exit 0, "yes"
# with exit 1) is never taken for a yes, and is handed only the user name, the code on
# stdin, an empty environment and descriptors 0-2.
#   test_verify_helper.sh PAM_TOTP_SO TOTP_VERIFY TOTP_ENROLL HELPER_PATH
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/sandbox.sh"
. "$here/lib/check.sh"
sandbox_enter "$@"

module=$1 helper_built=$2 enroll=$3 helper=$4
for need in oathtool pamtester python3 Xvfb i3lock xdotool; do
    command -v "$need" >/dev/null || { echo "FAIL: $need is not installed (scripts/install-deps.sh)"; exit 1; }
done
for built in "$module" "$helper_built" "$enroll"; do
    [ -f "$built" ] || { echo "FAIL: $built is not built"; exit 1; }
done

sandbox_setup
state=/var/lib/pam_totp
chmod 0711 "$state"
export TOTP_WINDOW=3
sandbox_write_file /etc/security/pam_totp.conf 0644 root:root <<EOF
[global]
window = $TOTP_WINDOW
max_failures = 3
lockout_seconds = 600
verify_helper_group = totpcheck
EOF
for user in alice bob svc; do
    sandbox_add_user "$user" "$user-Passw0rd"
done
groupadd totpcheck
sandbox_add_to_group svc totpcheck

# The helper at the module's compiled-in path, setuid root, as the packages install it.
sandbox_private_dir "$(dirname "$helper")" 0755 root:root
install -o root -g root -m 4755 "$helper_built" "$helper"

# A syslog socket where the libc sends it (/dev/log -> /run/systemd/journal/dev-log on
# Debian; /run is the sandbox's own): the lines land in $syslog.
syslog=$SANDBOX_ROOT/syslog
mkdir -p /run/systemd/journal
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
out = open(sys.argv[2], "ab", buffering=0)
print("ready", flush=True)
while True:
    out.write(s.recv(4096) + b"\n")
' /run/systemd/journal/dev-log "$syslog" >"$SANDBOX_ROOT/syslog.ready" &
for _ in $(seq 50); do [ -s "$SANDBOX_ROOT/syslog.ready" ] && break; sleep 0.1; done
[ -e /dev/log ] || ln -s /run/systemd/journal/dev-log /dev/log 2>/dev/null
chmod 0666 /run/systemd/journal/dev-log

sandbox_pam_service locker <<EOF
auth    required    pam_unix.so
auth    required    $module
account required    pam_permit.so
EOF
sandbox_pam_service codeonly <<EOF
auth    required    $module
account required    pam_permit.so
EOF

alice_secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
bob_secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
for pair in "alice $alice_secret" "bob $bob_secret"; do
    set -- $pair
    "$enroll" --user "$1" --no-confirm --secret "$2" --qr none </dev/null >/dev/null 2>&1 ||
        { echo "FAIL: could not enroll $1"; exit 1; }
done
preload=$(ldd "$module" | awk '/libasan/ {print $3}')
preload=${preload:+$preload:libcrypt.so.1}

# logged [-E] NEEDLE [FROM_LINE]: whether the syslog (from line FROM_LINE on) holds NEEDLE
# (fixed, or with -E a regular expression) within 3 s: the listener writes asynchronously.
logged() {
    local mode=-F
    if [ "$1" = -E ]; then mode=-E; shift; fi
    for _ in $(seq 30); do
        tail -n +"${2:-1}" "$syslog" | grep -q $mode -- "$1" && return 0
        sleep 0.1
    done
    return 1
}
field() { "$here/lib/state-field" "$state/$1" "$2"; }
code_for() { "$here/lib/totp-code" "$2" "$state/$1"; }
wrong_for() { "$here/lib/wrong-code" "$1"; }
uid_of() { id -u "$1"; }

# pam_as CALLER SERVICE USER ANSWER...: pamtester run by CALLER (real and effective uid),
# answers on stdin; sets $rc and $out.
pam_as() {
    local caller=$1 service=$2 user=$3
    shift 3
    out=$(printf '%s\n' "$@" |
        sandbox_as "$caller" env ${preload:+LD_PRELOAD=$preload} pamtester "$service" "$user" authenticate 2>&1)
    rc=$?
}

# helper_as CALLER USER CODE [ENV...]: runs the helper directly as CALLER; sets $rc, $out.
helper_as() {
    local caller=$1 user=$2 code=$3
    shift 3
    out=$(printf '%s' "$code" | sandbox_as "$caller" env "$@" "$helper" "$user" 2>&1)
    rc=$?
}

echo "--- the user checks their own code (a screen locker)"
code=$(code_for alice "$alice_secret")
pam_as alice locker alice alice-Passw0rd "$code"
check "alice, unprivileged, logs in with password and the right code" test "$rc" -eq 0
check "the helper recorded the step" test "$(field alice last_step)" -ge $(($(date +%s) / 30 - TOTP_WINDOW))
check "the helper logged the acceptance with the caller's uid" logged \
    "accepted verification code for user alice (caller uid $(uid_of alice))"
check "the module logged that the helper checked it" logged "checked by totp-verify"
check_no_output "the code is in no log line" "$code" "$(cat "$syslog")"

pam_as alice locker alice alice-Passw0rd "$code"
check "the same code again (replay) is refused" test "$rc" -ne 0
check "the helper logged the replay" logged "refused replayed verification code"

pam_as alice locker alice alice-Passw0rd "$(wrong_for "$alice_secret")"
check "a wrong code is refused" test "$rc" -ne 0
check "the wrong code was counted" test "$(field alice failures)" -eq 2

echo "--- a user cannot check another user's code"
bob_before=$(sha256sum "$state/bob")
pam_as alice codeonly bob "$(code_for bob "$bob_secret")"
check "alice's process cannot log bob in with bob's right code" test "$rc" -ne 0
check "refusal logged with alice's uid" logged \
    "refused: the caller asked about another user's code and is not in verify_helper_group for user bob (caller uid $(uid_of alice))"
for attempt in 1 2 3 4; do
    helper_as alice bob "$(wrong_for "$bob_secret")"
done
check "the helper run directly for bob: exit 2 (refused request)" test "$rc" -eq 2
check "its answer is no" test "$out" = "no"
check "bob's record is untouched (no failure counted, no lockout)" test "$bob_before" = "$(sha256sum "$state/bob")"

echo "--- a service account in verify_helper_group checks other users' codes"
pam_as svc codeonly bob "$(code_for bob "$bob_secret")"
check "svc (in verify_helper_group) logs bob in with bob's code" test "$rc" -eq 0
gpasswd -d svc totpcheck >/dev/null
pam_as svc codeonly bob "$(code_for bob "$bob_secret")"
check "after leaving the group, svc cannot" test "$rc" -ne 0

echo "--- rate limit and lockout across helper runs"
helper_as alice alice "$(wrong_for "$alice_secret")"
check "the third wrong code (max_failures = 3): no, exit 1" test "$rc" -eq 1 -a "$out" = "no"
check "alice is locked out" test "$(field alice locked_until)" -gt "$(date +%s)"
failures=$(field alice failures)
code=$(code_for alice "$alice_secret")
pam_as alice locker alice alice-Passw0rd "$code"
check "while locked out the right code is refused" test "$rc" -ne 0
check "the helper logged the lockout" logged "refused: locked out for another"
for attempt in 1 2 3 4 5; do
    helper_as alice alice "$(wrong_for "$alice_secret")"
done
check "guesses while locked out answer no" test "$rc" -eq 1 -a "$out" = "no"
check "nothing examined while locked: the count stays" test "$(field alice failures)" -eq "$failures"

echo "--- the caller's environment and a terminal change nothing"
"$enroll" unlock --user alice </dev/null >/dev/null 2>&1
evil=$SANDBOX_ROOT/tmp/evil
mkdir -m 0700 "$evil" && chown alice "$evil"
sandbox_write_file "$evil/pam_totp.conf" 0644 root:root <<EOF
[global]
state_dir = $evil
max_failures = 1000
EOF
helper_as alice alice "$(code_for alice "$alice_secret")" PAM_TOTP_CONFIG="$evil/pam_totp.conf" \
    TOTP_STATE_DIR="$evil" LD_LIBRARY_PATH="$evil" MALLOC_CHECK_=3
check "the right code under a hostile environment: yes" test "$rc" -eq 0 -a "$out" = "yes"
check "nothing was written where the environment pointed" test -z "$(ls -A "$evil" | grep -v pam_totp.conf)"
out=$(sandbox_as alice script -qec "$helper alice" /dev/null </dev/null 2>&1)
rc=$?
check "standard input a terminal: refused (exit 2)" test "$rc" -eq 2
check "and logged" logged "refused: standard input is a terminal"
out=$(sandbox_as alice "$helper" 2>&1 </dev/null)
rc=$?
check "no user argument: refused (exit 2)" test "$rc" -eq 2
helper_as alice alice "$(code_for alice "$alice_secret")" 2>/dev/null
before=$(sha256sum "$state/alice")
out=$(printf '%s' "$(code_for alice "$alice_secret")" |
    sandbox_as alice setpriv --no-new-privs "$helper" alice 2>&1)
rc=$?
check "under no_new_privs (no setuid rights) it cannot check: exit 3, no" \
    test "$rc" -eq 3 -a "$out" = no
check "  and the record is untouched" test "$before" = "$(sha256sum "$state/alice")"

echo "--- the caller's resource limits change nothing"
# Limits survive exec into a setuid program. A file size limit killed the helper (SIGXFSZ)
# while it wrote the record: the attempt was lost, or (9000: the new record fits in what
# was written of slot 1) counted but never logged or answered; a small stack ended it in
# the middle (SIGSEGV). Soft limits it raises; a lowered hard limit too only with
# CAP_SYS_RESOURCE, else it refuses up front. Two attempts each: the record's two slots
# are written in turn. (The few descriptors and the stack left would not even load a
# sanitizer build.)
limits="--fsize=0: --fsize=9000: --fsize=0"
ldd "$helper" | grep -q libasan || limits="$limits --nofile=5: --stack=20000:"
for limit in $limits; do
    "$enroll" unlock --user alice </dev/null >/dev/null 2>&1
    for attempt in 1 2; do
        before=$(($(wc -l <"$syslog") + 1))
        failures=$(field alice failures)
        out=$(printf '%s' "$(wrong_for "$alice_secret")" |
            sandbox_as alice prlimit "$limit" "$helper" alice 2>&1)
        rc=$?
        if [ "$limit" = --fsize=0 ] && [ "$rc" -eq 3 ]; then
            check "prlimit $limit (no CAP_SYS_RESOURCE here), attempt $attempt: no, exit 3" \
                test "$out" = no
            check "  nothing counted" test "$(field alice failures)" -eq "$failures"
            check "  refusal logged" logged "resource limits are below the helper's" "$before"
            continue
        fi
        check "prlimit $limit, attempt $attempt: a wrong code answers no, exit 1" \
            test "$rc" -eq 1 -a "$out" = no
        check "  counted" test "$(field alice failures)" -eq $((failures + 1))
        check "  and logged" logged \
            "wrong verification code for user alice (caller uid $(uid_of alice))" "$before"
    done
done
"$enroll" unlock --user alice </dev/null >/dev/null 2>&1

echo "--- the helper killed at random moments leaves a whole record"
conf_before=$(cat /etc/security/pam_totp.conf)
printf '[global]\nwindow = %s\nmax_failures = 1000\n' "$TOTP_WINDOW" |
    sandbox_write_file /etc/security/pam_totp.conf 0644 root:root
secret_before=$(field alice secret)
wrong=$(wrong_for "$alice_secret")
for round in $(seq 60); do
    printf '%s' "$wrong" | sandbox_as alice "$helper" alice >/dev/null 2>&1 &
    sleep "0.00$((RANDOM % 10))"
    kill -9 $! 2>/dev/null
    wait $! 2>/dev/null
done
"$enroll" status alice </dev/null >/dev/null 2>&1
check "after 60 helpers killed mid-run the record still decodes (totp-enroll status)" test $? -eq 0
check "  with the same secret" test "$(field alice secret)" = "$secret_before"
check "  and at most 60 more failures" test "$(field alice failures)" -le 60
echo "    ($(field alice failures) of the 60 attempts were recorded before their kill)"
printf '%s\n' "$conf_before" | sandbox_write_file /etc/security/pam_totp.conf 0644 root:root

echo "--- a real screen locker: i3lock under Xvfb, run by alice"
"$enroll" unlock --user alice </dev/null >/dev/null 2>&1
# i3lock gives every PAM question the one typed line: forward_pass splits it into the
# password (for pam_unix) and the code (for the checking line).
sandbox_pam_service i3lock <<EOF
auth    required    $module forward_pass
auth    required    pam_unix.so use_first_pass
auth    required    $module
EOF
# -nolock: no lock file in /tmp (the host's); a free display number from -displayfd.
display_file=$SANDBOX_ROOT/tmp/display
touch "$display_file" && chown alice "$display_file"
sandbox_as alice sh -c 'exec Xvfb -displayfd 4 -nolock -nolisten tcp 4>"$1"' xvfb "$display_file" \
    >"$SANDBOX_ROOT/xvfb.log" 2>&1 &
for _ in $(seq 50); do [ -s "$display_file" ] && break; sleep 0.1; done
display=:$(head -1 "$display_file")
# lock_and_type TEXT: locks alice's display, types TEXT and Enter; sets $unlocked: yes (i3lock
# exited 0), no (it exited otherwise) or still-locked (it was still running 3 s later).
# i3lock is started through exec only (no subshell), so $! is its own pid.
lock_and_type() {
    sandbox_as_argv alice
    # (Under a sanitizer build, i3lock's own leaks at exit are not the module's.)
    "${SANDBOX_AS_ARGV[@]}" env ${preload:+LD_PRELOAD=$preload ASAN_OPTIONS=detect_leaks=0} \
        DISPLAY="$display" i3lock -n &
    local lock=$!
    sleep 1
    sandbox_as alice env DISPLAY="$display" xdotool type --delay 10 "$1"
    sandbox_as alice env DISPLAY="$display" xdotool key Return
    unlocked=no
    for _ in $(seq 15); do
        if ! kill -0 "$lock" 2>/dev/null; then
            wait "$lock" && unlocked=yes
            return
        fi
        sleep 0.2
    done
    unlocked=still-locked
    kill "$lock" 2>/dev/null
    wait "$lock" 2>/dev/null
}
lock_and_type "alice-Passw0rd$(wrong_for "$alice_secret")"
check "i3lock stays locked with the password and a wrong code" test "$unlocked" = still-locked
before_unlock=$(($(wc -l <"$syslog") + 1))
lock_and_type "alice-Passw0rd$(code_for alice "$alice_secret")"
check "i3lock unlocks with the password and the right code" test "$unlocked" = yes
check "through the helper" logged "accepted verification code (checked by totp-verify)" "$before_unlock"

echo "--- a program at the helper's path that does not answer as the helper fails closed"
# fake_helper BODY: a Python program at the helper's path that first records what it got
# (arguments, environment, open descriptors, stdin), then runs BODY.
fake_helper() {
    printf '%s\n' '#!/usr/bin/python3' 'import os, sys' \
        'fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))' \
        'environ = open("/proc/self/environ", "rb").read().split(b"\0")[:-1]' \
        "with open('$SANDBOX_ROOT/tmp/fake-helper.seen', 'w') as seen:" \
        '    seen.write(repr((sys.argv[1:], environ, fds, sys.stdin.read())))' "$1" |
        sandbox_write_file "$helper" 0755 root:root
}
for body in 'sys.stdout.write("yes")' 'sys.stdout.write("yes\nyes\n")' \
    'sys.stdout.write("yes\n"); sys.stdout.flush(); os.kill(os.getpid(), 9)' 'pass' \
    'sys.stdout.write("no\n")' 'sys.stdout.write("yes\n"); sys.exit(1)'; do
    fake_helper "$body"
    before=$(($(wc -l <"$syslog") + 1))
    code=$(code_for alice "$alice_secret")
    pam_as alice codeonly alice "$code"
    check "answer of '$body' is not a yes" test "$rc" -ne 0
    check "  and failing closed is logged" logged -E "verification helper.*failing closed" "$before"
done
seen=$(cat "$SANDBOX_ROOT/tmp/fake-helper.seen")
check "the helper got the user name as its only argument" grep -qF "(['alice'], " <<<"$seen"
check "an empty environment" grep -qF "], [], [" <<<"$seen"
check "descriptors 0-2 only (3 is its own listing)" grep -qF "], [0, 1, 2, 3], " <<<"$seen"
check "the code on stdin, nothing more" grep -qF "3], '$code')" <<<"$seen"
echo "    (the helper saw: ${seen//$code/CODE})"

finish
