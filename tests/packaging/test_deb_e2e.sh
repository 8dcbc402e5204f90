#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The Debian packages, installed with dpkg -i on a Debian 12 system set up only the way the
# README and docs/admin-guide.md say, make the real ssh, sudo, su and console logins ask
# for the password and the code:
#
#   install (pam-auth-update puts pam_totp after pam_unix), users enroll themselves with the
#   installed setuid totp-enroll; an unenrolled user still gets in; sshd with the shipped
#   drop-in and the real OpenSSH client (keyboard-interactive through SSH_ASKPASS): password
#   + code logs in and runs a command, a wrong code, a replayed code, the password alone
#   are refused; sudo, su and login(1) on a pty need both; "totp-enroll enforce" shuts
#   the unenrolled user out; publickey + code with the second drop-in; totp-resetd started as
#   its unit starts it answers on loopback; remove keeps the enrollments and unlocks the
#   stacks, purge deletes them.
#
# The system is the host's own, seen through an overlayfs whose writes go to a tmpfs in a
# private mount namespace (tests/system/lib/sandbox.sh, sandbox_enter_system_root): the
# host's dpkg database, /etc, users and /usr are never written, which the outer part of
# this script checks.
#
#   test_deb_e2e.sh DEB_DIR SOURCE_DIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
system_lib=$(cd "$here/../system/lib" && pwd)
. "$system_lib/sandbox.sh"
. "$system_lib/check.sh"

deb_dir=$(cd "$1" && pwd)
source_dir=$(cd "$2" && pwd)

# What installing packages in the sandbox must never change on the host.
host_snapshot() {
    sha256sum /var/lib/dpkg/status /etc/passwd /etc/shadow /etc/group /etc/gshadow 2>&1
    find /etc/pam.d /etc/security /etc/ssh /usr/share/pam-configs -printf '%p %m %U %s %T@\n' 2>&1 | sort
    ls -ld /var/lib/pam_totp /usr/bin/totp-enroll /usr/sbin/totp-resetd \
        /lib/*/security/pam_totp.so 2>&1
}

if [ -z "${_SANDBOX_INNER:-}" ]; then
    before=$(host_snapshot)
    sandbox_run_and_count "$@"
    check "host dpkg status, users, pam.d, security, ssh, pam-configs and /usr are unchanged" \
        test "$before" = "$(host_snapshot)"
    finish
fi

for tool in /usr/sbin/sshd ssh ssh-keygen sudo su login expect oathtool curl setpriv dpkg pam-auth-update; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed (scripts/install-deps.sh)"; exit 1; }
done
sandbox_enter_system_root "$deb_dir" "$source_dir" -- "$deb_dir" "$source_dir"

# ----- from here on: chrooted into the private system -----
state=/var/lib/pam_totp
conf=/etc/security/pam_totp.conf
work=/tmp/e2e
mkdir -m 0755 "$work"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# wait_for DESCRIPTION COMMAND...: polls COMMAND for up to 10 s.
wait_for() {
    local what=$1 tries=100
    shift
    until "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            echo "FAIL: $what did not happen within 10 s"
            return 1
        fi
        sleep 0.1
    done
}
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
secret_of() { "$system_lib/state-field" "$state/$1" secret; }
code_for() { "$system_lib/totp-code" "$(secret_of "$1")" "$state/$1"; }
wrong_code_for() { "$system_lib/wrong-code" "$(secret_of "$1")"; }
line_of() { grep -n "$1" "$2" | head -1 | cut -d: -f1; }

# drive_as USER COMMAND...: COMMAND as USER on a terminal, prompts answered by drive.exp
# from the DRIVE_* variables; sets $out (transcript) and $rc.
drive_as() {
    sandbox_as_argv "$1"
    shift
    expect -f "$system_lib/drive.exp" "${SANDBOX_AS_ARGV[@]}" "$@" >"$work/transcript" 2>&1
    rc=$?
    out=$(tr -d '\r' <"$work/transcript")
}

# refused: the command on the terminal ended with a failure of its own, not with the
# expect script's timeout (124).
refused() { [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; }

echo "--- install the packages (README: Install from packages)"
debs=()
for package in libpam-totp totp-enroll totp-resetd libpam-totp-postgresql; do
    debs+=("$(ls "$deb_dir/${package}"_*.deb | head -1)")
done
out=$(DEBIAN_FRONTEND=noninteractive dpkg -i "${debs[@]}" 2>&1)
check "dpkg -i installs the four packages" test $? -eq 0
check "all of them are configured" test "$(dpkg-query -W -f='${db:Status-Abbrev}\n' \
    libpam-totp totp-enroll totp-resetd libpam-totp-postgresql | sort -u)" = "ii "
[ "$CHECK_FAILED" -eq 0 ] || { echo "$out"; finish; }
pam-auth-update --enable totp
check "pam-auth-update --enable totp succeeds" test $? -eq 0
check "the state directory is root 0711" test "$(stat -c %U:%G:%a "$state")" = root:root:711
check "totp-enroll is installed setuid root" test "$(stat -c %U:%a /usr/bin/totp-enroll)" = root:4755
check "the installed roll-out state lets unenrolled users through" \
    grep -qx rollout /etc/security/pam_totp.rollout
check "the web process's system account exists" \
    test "$(getent passwd totp-resetd | cut -d: -f7)" = /usr/sbin/nologin
unix=$(line_of 'pam_unix.so' /etc/pam.d/common-auth)
permit=$(line_of 'pam_permit.so' /etc/pam.d/common-auth)
totp=$(line_of 'pam_totp.so' /etc/pam.d/common-auth)
check "common-auth asks pam_totp after pam_unix (and after pam_permit)" \
    test -n "$totp" -a "${totp:-0}" -gt "${unix:-99}" -a "${totp:-0}" -gt "${permit:-99}"
check "as a required module without arguments" \
    grep -qE '^auth[[:space:]]+required[[:space:]]+pam_totp\.so[[:space:]]*$' /etc/pam.d/common-auth

echo "--- users (alice: ssh, bob: sudo, carol: su and login, dave: publickey, erin: never enrolls)"
for user in alice bob carol dave erin; do
    if getent passwd "$user" >/dev/null; then echo "FAIL: $user exists on this host"; finish; fi
    useradd --create-home --shell /bin/bash "$user"
    # (pam_pwquality's remark that the password holds the user name is beside the point)
    echo "$user:$user-Passw0rd" | chpasswd 2>/dev/null || echo "FAIL: chpasswd $user"
done
usermod -aG sudo bob
check "the users exist" test "$(getent passwd alice bob carol dave erin | wc -l)" -eq 5

echo "--- each user enrolls through the installed setuid totp-enroll"
for user in alice bob carol dave; do
    DRIVE_PASSWORD=$user-Passw0rd DRIVE_ENROLL=right drive_as "$user" /usr/bin/totp-enroll
    check "$user enrolls (exit 0)" test "$rc" -eq 0
    check_output "$user's enrollment is confirmed" "Enrollment active." "$out"
    check "$user's state file is root 0600" test "$(stat -c %U:%a "$state/$user" 2>&1)" = root:600
done

echo "--- sshd with the shipped password + code drop-in"
install -m 0644 /usr/share/pam_totp/sshd/pam_totp.conf /etc/ssh/sshd_config.d/00-pam_totp.conf
# Keys of this sandbox only, not the host's.
rm -f /etc/ssh/ssh_host_*
ssh-keygen -A >/dev/null
install -d -m 0755 /run/sshd
sshd_port=$(free_port)
check "sshd -t accepts the configuration" /usr/sbin/sshd -t
start_sshd() {
    /usr/sbin/sshd -D -e -p "$sshd_port" -o ListenAddress=127.0.0.1 2>>"$work/sshd.log" &
    sshd_pid=$!
    pids+=("$sshd_pid")
    wait_for "sshd listening on $sshd_port" port_open "$sshd_port"
}
stop_sshd() {
    kill "$sshd_pid"
    wait "$sshd_pid" 2>/dev/null
}
start_sshd

mkdir -m 0700 "$work/askpass"
# ssh_as USER PASSWORD CODE [ssh options...]: the real OpenSSH client as root logs in as
# USER on the loopback sshd and runs `id -un`, keyboard-interactive questions answered by
# lib/askpass.sh; sets $out (output), $rc and $prompts (the questions asked, in order).
ssh_as() {
    local user=$1
    printf '%s\n' "$2" >"$work/askpass/password"
    printf '%s\n' "$3" >"$work/askpass/code"
    : >"$work/askpass/prompts"
    shift 3
    out=$(ASKPASS_DIR=$work/askpass SSH_ASKPASS=$here/lib/askpass.sh SSH_ASKPASS_REQUIRE=force \
        DISPLAY=none timeout 60 ssh -F /dev/null -p "$sshd_port" \
        -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
        -o NumberOfPasswordPrompts=1 -o ConnectTimeout=10 "$@" \
        "$user@127.0.0.1" 'echo "ran as $(id -un)"' </dev/null 2>&1)
    rc=$?
    prompts=$(cat "$work/askpass/prompts")
}
kbd=(-o PreferredAuthentications=keyboard-interactive -o PubkeyAuthentication=no)

ssh_as erin erin-Passw0rd unused "${kbd[@]}"
check "unenrolled erin logs in with her password alone before enforcement" test "$rc" -eq 0
check_output "and her command runs" "ran as erin" "$out"
check_no_output "she is not asked for a code" "Verification code" "$prompts"

code=$(code_for alice)
ssh_as alice alice-Passw0rd "$code" "${kbd[@]}"
check "alice: password + current code log in" test "$rc" -eq 0
check_output "and run the command" "ran as alice" "$out"
check_order "she is asked for the password, then the code" "$prompts" "Password" "Verification code"
ssh_as alice alice-Passw0rd "$code" "${kbd[@]}"
check "the same code again (a replay) is refused" test "$rc" -ne 0
check_no_output "and runs nothing" "ran as" "$out"
ssh_as alice alice-Passw0rd "$(wrong_code_for alice)" "${kbd[@]}"
check "a wrong code is refused" test "$rc" -ne 0
ssh_as alice alice-Passw0rd "" "${kbd[@]}"
check "the password with an empty code is refused" test "$rc" -ne 0
ssh_as alice alice-Passw0rd unused -o PreferredAuthentications=password -o PubkeyAuthentication=no
check "password authentication alone is refused" test "$rc" -ne 0
check_no_output "without a question being asked" "Verification code" "$prompts"
ssh_as alice wrong-Passw0rd "$(code_for alice)" "${kbd[@]}"
check "a wrong password with a current code is refused" test "$rc" -ne 0
ssh_as alice alice-Passw0rd "$(code_for alice)" "${kbd[@]}"
check "alice still logs in with password + a fresh code" test "$rc" -eq 0
check_output "sshd logged the keyboard-interactive/pam login" \
    "Accepted keyboard-interactive/pam for alice" "$(cat "$work/sshd.log")"

echo "--- sudo by an unprivileged user"
# sudo_as_bob CODES: bob runs `sudo id -un` (no cached credentials) on a terminal,
# answering his password and then CODES (lib/answer.exp); sets $out and $rc.
sudo_as_bob() {
    sandbox_as_argv bob
    expect -f "$here/lib/answer.exp" bob-Passw0rd "$1" \
        "${SANDBOX_AS_ARGV[@]}" sh -c 'sudo -k; exec sudo id -un' >"$work/transcript" 2>&1
    rc=$?
    out=$(tr -d '\r' <"$work/transcript")
}
sudo_as_bob ctrl-c
check "sudo with the password and no code fails" refused
check_order "sudo asked for the password, then the code" "$out" "[sudo] password for bob: " "Verification code: "
check "and ran nothing as root" test -z "$(grep -x root <<<"$out")"
sudo_as_bob "$(wrong_code_for bob),ctrl-c"
check "sudo with the password and a wrong code fails" refused
check "and ran nothing as root" test -z "$(grep -x root <<<"$out")"
sudo_as_bob "$(code_for bob)"
check "sudo with the password and the current code runs the command as root" test "$rc" -eq 0
check "id -un printed root" grep -qx root <<<"$out"

echo "--- su"
export DRIVE_PASSWORD=carol-Passw0rd DRIVE_SECRET DRIVE_STATE=$state/carol
DRIVE_SECRET=$(secret_of carol)
DRIVE_VERIFY=wrong drive_as bob su -c 'id -un' carol
check "su with carol's password and a wrong code fails" refused
check_order "su asked for the password, then the code" "$out" "Password: " "Verification code: "
check "and ran nothing as carol" test -z "$(grep -x carol <<<"$out")"
DRIVE_VERIFY=right drive_as bob su -c 'id -un' carol
check "su with carol's password and the current code runs the command as carol" test "$rc" -eq 0
check "id -un printed carol" grep -qx carol <<<"$out"
unset DRIVE_PASSWORD DRIVE_SECRET DRIVE_STATE DRIVE_VERIFY

echo "--- console login(1) on a pseudo-terminal"
console_login() {
    expect -f "$here/lib/console_login.exp" "$@" >"$work/transcript" 2>&1
    rc=$?
    out=$(tr -d '\r' <"$work/transcript")
}
console_login carol carol-Passw0rd "$(wrong_code_for carol)"
check "login with carol's password and a wrong code says Login incorrect" test "$rc" -eq 1
check_order "login asked for the password, then the code" "$out" "Password: " "Verification code: "
console_login carol carol-Passw0rd "$(code_for carol)"
check "login with carol's password and the current code starts her shell" test "$rc" -eq 0
check_output "which runs as carol" "LOGGED-IN-AS=carol" "$out"

echo "--- enforcement: totp-enroll enforce"
out=$(totp-enroll enforce 2>&1)
check "totp-enroll enforce refuses while erin has not enrolled" test $? -ne 0
check_output "  naming her" erin "$out"
totp-enroll enforce --force >/dev/null 2>&1
check "totp-enroll enforce --force enforces" grep -qx enforce /etc/security/pam_totp.rollout
ssh_as erin erin-Passw0rd 123456 "${kbd[@]}"
check "unenrolled erin is refused over ssh after enforcement" test "$rc" -ne 0
check_output "after being asked for a code like everyone" "Verification code" "$prompts"
DRIVE_PASSWORD=erin-Passw0rd DRIVE_VERIFY=123456 drive_as bob su -c 'id -un' erin
check "and refused by su" refused
ssh_as alice alice-Passw0rd "$(code_for alice)" "${kbd[@]}"
check "enrolled alice still logs in with password + code" test "$rc" -eq 0

echo "--- publickey + code: the second drop-in and docs/admin-guide.md's change to /etc/pam.d/sshd"
ssh-keygen -q -t ed25519 -N '' -f "$work/dave_key"
install -d -m 0700 -o dave -g dave /home/dave/.ssh
install -m 0600 -o dave -g dave "$work/dave_key.pub" /home/dave/.ssh/authorized_keys
install -m 0644 /usr/share/pam_totp/sshd/pam_totp-publickey.conf /etc/ssh/sshd_config.d/00-pam_totp.conf
sed -i 's/^@include common-auth$/auth required pam_permit.so\nauth required pam_totp.so/' /etc/pam.d/sshd
check "/etc/pam.d/sshd asks only pam_totp" test "$(grep -c '^auth' /etc/pam.d/sshd)" -eq 2
check "sshd -t accepts the publickey drop-in" /usr/sbin/sshd -t
stop_sshd
start_sshd
key=(-i "$work/dave_key" -o IdentitiesOnly=yes -o "PreferredAuthentications=publickey,keyboard-interactive")
ssh_as dave unused "$(code_for dave)" "${key[@]}"
check "dave: key + current code log in" test "$rc" -eq 0
check_output "and run the command" "ran as dave" "$out"
check "he is asked for the code and nothing else" \
    test "$(wc -l <<<"$prompts")" -eq 1 -a -n "$(grep 'Verification code: $' <<<"$prompts")"
ssh_as dave unused "$(wrong_code_for dave)" "${key[@]}"
check "key + wrong code is refused" test "$rc" -ne 0
ssh_as dave dave-Passw0rd "$(code_for dave)" "${kbd[@]}"
check "password + code without the key is refused" test "$rc" -ne 0
check_output "sshd logged the second factor after the key" \
    "Accepted keyboard-interactive/pam for dave" "$(cat "$work/sshd.log")"
stop_sshd

echo "--- totp-resetd, started the way its unit starts it"
unit=/lib/systemd/system/totp-resetd.service
unit_value() { sed -n "s/^$1=//p" "$unit"; }
reset_port=$(free_port)
sed -i '/^\[reset\]$/r /dev/stdin' "$conf" <<EOF
base_url = http://127.0.0.1:$reset_port/
listen = 127.0.0.1:$reset_port
EOF
install -d -m "$(unit_value RuntimeDirectoryMode)" "/run/$(unit_value RuntimeDirectory)"
# CapabilityBoundingSet=CAP_A CAP_B -> setpriv's -all,+a,+b
bounding=-all$(unit_value CapabilityBoundingSet | tr ' ' '\n' | sed -n 's/^CAP_\(.*\)/,+\L\1/p' | tr -d '\n')
read -r -a exec_start <<<"$(unit_value ExecStart)"
check "the unit sets NoNewPrivileges" test "$(unit_value NoNewPrivileges)" = yes
(umask "$(unit_value UMask)" && exec setpriv --no-new-privs --bounding-set="$bounding" \
    --inh-caps=-all "${exec_start[@]}") 2>"$work/resetd.log" &
pids+=("$!")
wait_for "totp-resetd listening on $reset_port" port_open "$reset_port"
headers=$(curl -sS -o "$work/page.html" -D - "http://127.0.0.1:$reset_port/" | tr -d '\r')
check "GET / answers 200" grep -qE '^HTTP/[0-9.]+ 200' <<<"$headers"
for header in "Content-Security-Policy: " "X-Frame-Options: DENY" "Referrer-Policy: no-referrer" \
    "Cache-Control: no-store" "X-Content-Type-Options: nosniff"; do
    check_output "with $header" "$header" "$headers"
done
check "the page is a form" grep -qi '<form' "$work/page.html"
web_users=$(ps -o user= --ppid "${pids[-1]}" 2>/dev/null | sort -u)
check "the web process runs as totp-resetd" test "$web_users" = totp-resetd
[ "$CHECK_FAILED" -eq 0 ] || sed 's/^/    resetd | /' "$work/resetd.log"

echo "--- remove keeps the enrollments and unlocks the stacks; purge deletes them"
# Stopped as systemd stops the unit (KillMode=control-group): every process of it.
mapfile -t unit_pids < <(pgrep -P "${pids[-1]}")
kill "${pids[-1]}" "${unit_pids[@]}" 2>/dev/null
sed -i 's/^auth required pam_permit.so$/@include common-auth/; /^auth required pam_totp.so$/d' /etc/pam.d/sshd
out=$(dpkg -r totp-enroll totp-resetd libpam-totp-postgresql libpam-totp 2>&1)
check "dpkg -r removes the packages" test $? -eq 0
check "pam_totp is out of common-auth" test -z "$(grep pam_totp /etc/pam.d/common-auth)"
check "the enrollments are kept" test -f "$state/alice"
DRIVE_PASSWORD=carol-Passw0rd drive_as bob su -c 'id -un' carol
check "su with carol's password alone works again" test "$rc" -eq 0
out=$(dpkg --purge libpam-totp totp-resetd 2>&1)
check "dpkg --purge succeeds" test $? -eq 0
check "purge deletes the state directory" test ! -e "$state"
check "and the configuration" test ! -e "$conf"
check "and the roll-out state" test ! -e /etc/security/pam_totp.rollout
finish
