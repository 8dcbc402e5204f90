#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The interactive enrollment, typed into a real terminal (a private tmux server) the way
# an administrator does it: a wrong confirmation code is refused and asked again, the
# right one activates and shows recovery codes; a later run stopped with Ctrl-C, Ctrl-D
# or three wrong codes exits 5, leaves the old enrollment byte for byte (and it still
# logs in), and gives the terminal its echo back.
#   test_enroll_interactive.sh TOTP_ENROLL PAM_TOTP_SO
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/check.sh"

tool=$1 module=$2
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root (totp-enroll --config takes a root-owned file and store)"
    exit 77
fi
for need in tmux oathtool pamtester; do
    command -v "$need" >/dev/null || { echo "FAIL: $need is not installed (scripts/install-deps.sh)"; exit 1; }
done
for built in "$tool" "$module"; do
    [ -f "$built" ] || { echo "FAIL: $built is not built"; exit 1; }
done

work=$(mktemp -d)
socket=$work/tmux.socket
cleanup() {
    tmux -S "$socket" kill-server 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
# Every wait below gives up at this deadline, so the script always ends (and cleans up)
# before ctest's TIMEOUT would kill it.
deadline=$((SECONDS + 140))
mkdir -m 0700 "$work/state" "$work/services"
conf=$work/pam_totp.conf
printf '[global]\nstate_dir = %s\nissuer = TmuxTest\n' "$work/state" >"$conf"
chmod 0644 "$conf"
user=nobody
record=$work/state/$user

tmx() { tmux -S "$socket" "$@"; }
# The pane's text since the latest new_run marker, wrapped lines joined.
run=0
pane() { tmx capture-pane -p -J -S - -t enroll | sed -n "/^RUN-$run\$/,\$p"; }
# wait_for TEXT [COUNT]: until the pane shows a line containing TEXT (a grep -E pattern
# with -E as the first argument) COUNT times (default 1); 20 s at most.
wait_for() {
    local mode=-F
    if [ "$1" = -E ]; then
        mode=-E
        shift
    fi
    local text=$1 count=${2:-1} _
    for _ in $(seq 100); do
        [ "$SECONDS" -lt "$deadline" ] || break
        if [ "$(pane | grep -c "$mode" -- "$text")" -ge "$count" ]; then
            return 0
        fi
        sleep 0.2
    done
    echo "    (timed out waiting for: $text; the pane shows:)"
    pane | sed 's/^/    | /'
    return 1
}
type_line() {
    tmx send-keys -t enroll -l -- "$1"
    tmx send-keys -t enroll Enter
}
# Starts a new section of the pane: the shell prints RUN-<n> (the typed line shows
# "RUN-$((n))", so only the output matches) and pane() shows what follows.
new_run() {
    run=$((run + 1))
    type_line "echo RUN-\$(($run))"
    wait_for -E "^RUN-$run\$" >/dev/null
}
# Runs the tool in the pane; its exit status shows as EXIT=N even if a signal killed it.
start_enroll() {
    new_run
    type_line "bash -c 'trap : INT; \"\$@\"; echo EXIT=\$?' - $tool --user $user --config $conf"
}
exit_status() { pane | sed -n 's/^EXIT=\([0-9]*\)$/\1/p' | tail -1; }
echo_is_on() {
    rm -f "$work/stty"
    type_line "stty -a > $work/stty; echo STTY-\$((40 + 2))"
    wait_for "STTY-42" && grep -qE '(^| )echo( |;|$)' "$work/stty"
}
pam_login() {
    local asan
    asan=$(ldd "$module" | awk '/libasan/ {print $3}')
    printf 'auth required %s config=%s\n' "$module" "$conf" >"$work/services/totp-check"
    printf '%s\n' "$1" | env LD_PRELOAD="${asan:+$asan:}libpam_wrapper.so" PAM_WRAPPER=1 \
        PAM_WRAPPER_SERVICE_DIR="$work/services" pamtester totp-check "$user" authenticate \
        >/dev/null 2>&1
}

tmx -f /dev/null new-session -d -s enroll -x 120 -y 50 \
    "exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin TERM=tmux-256color LANG=C.UTF-8 PS1='pane\$ ' bash --norc --noprofile --noediting -i"
# Keys sent before the shell has set up its terminal may be lost: wait for its prompt.
for _ in $(seq 100); do
    tmx capture-pane -p -t enroll | grep -q '^pane\$' && break
    sleep 0.2
done

echo "--- first enrollment: a wrong code, then the right one"
start_enroll
if ! wait_for "Enter the code from your app: "; then
    check "the code prompt appears" false
    finish
fi
secret=$(pane | sed -n 's/^Secret: //p' | tr -d ' ' | tail -1)
check "the pane shows the secret" test -n "$secret"
check_output "the pane shows the otpauth URI with that secret" "secret=$secret" "$(pane | grep '^otpauth://')"
wrong=$("$here/lib/wrong-code" "$secret")
type_line "$wrong"
wait_for "That code is not correct."
check "a wrong code: the tool says so" test $? -eq 0
wait_for "Enter the code from your app: " 2
check "a wrong code: the tool asks again" test $? -eq 0
check_no_output "the typed code is not echoed" "$wrong" "$(pane)"
type_line "$("$here/lib/totp-code" "$secret")"
wait_for -E "^EXIT=[0-9]+$"
check "the right code: exit 0" test "$(exit_status)" = 0
check_order "the right code: active, then recovery codes" "$(pane)" \
    "Enrollment active." "Recovery codes (each works once; store them safely):"
check "10 recovery codes in XXXX-XXXX-XXXX form" \
    test "$(pane | grep -cE '^[[:alnum:]]{4}-[[:alnum:]]{4}-[[:alnum:]]{4}$')" -eq 10
check "the record is root 0600 and holds the secret" \
    test "$(stat -c %U:%a "$record" 2>&1) $("$here/lib/state-field" "$record" secret 2>&1)" = "root:600 $secret"
cp "$record" "$work/saved"

abandon() {
    local name=$1
    shift
    echo "--- re-enrollment abandoned: $name"
    start_enroll
    if ! wait_for "Enter the code from your app: "; then
        check "$name: the code prompt appears" false
        return
    fi
    "$@"
    wait_for -E "^EXIT=[0-9]+$"
    check "$name: exit 5" test "$(exit_status)" = 5
    check_no_output "$name: not activated" "Enrollment active." "$(pane)"
    check "$name: the old record is unchanged, byte for byte" cmp -s "$record" "$work/saved"
    check "$name: nothing else left in the store" test "$(ls -A "$work/state")" = "$user"
    check "$name: the terminal echoes again" echo_is_on
}
press_ctrl_c() { tmx send-keys -t enroll C-c; }
press_ctrl_d() { tmx send-keys -t enroll C-d; }
three_wrong_codes() {
    local try
    for try in 1 2 3; do
        wait_for "Enter the code from your app: " "$try" >/dev/null
        type_line "$("$here/lib/wrong-code" "$secret")"
    done
}
abandon "Ctrl-C at the code prompt" press_ctrl_c
abandon "Ctrl-D at the code prompt" press_ctrl_d
abandon "three wrong codes" three_wrong_codes
check "three wrong codes: the tool said so three times" \
    test "$(pane | grep -c '^That code is not correct\.')" -eq 3

echo "--- the old enrollment still logs in"
pam_login "$("$here/lib/totp-code" "$secret" "$record")"
check "a code from the first secret logs in through pam_totp" test $? -eq 0
pam_login "$("$here/lib/wrong-code" "$secret")"
check "control: a wrong code does not" test $? -ne 0
finish
