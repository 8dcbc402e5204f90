#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# End-to-end tests of totp-resetd, as root in a private mount namespace over a copy of /etc
# (tests/system/lib/sandbox.sh): real users and passwords in the copy, the shipped
# totp-reset PAM service (pam_pwquality + pam_unix), an aiosmtpd server on loopback that
# keeps every mail, and totp-resetd itself, privilege-separated, on a free loopback port.
#
#   run_e2e.sh browser|abuse|processes|postgresql TOTP_RESETD ENROLL_FIXTURE PAM_TOTP_SO BUILD_DIR
#
# browser  Debian chromium, driven by playwright-core, walks the whole flow: ask for a
#          link, open it from the mail, set a new password with a code from oathtool, see
#          the success page (saved as BUILD_DIR/reset-success.png, phone-sized). Then the
#          new password works through PAM and the old one does not.
# abuse    abuse_cases.py: every refusal the service must make, over plain HTTP.
# processes
#          process_cases.py: instances started as systemd starts the unit (NOTIFY_SOCKET,
#          WATCHDOG_USEC): readiness, watchdog pings, answer deadlines, stopped lock
#          holders and monitors, and the web process's fresh exec.
# postgresql
#          the service on the fleet store: a throwaway PostgreSQL server on loopback
#          (tests/pg/pg_server.sh), alice moved into it with totp-enroll migrate and her
#          state file removed, the backend installed at its fixed path (a private copy of
#          its directory); pg_flow.py then gets and uses a link over HTTP. Needs
#          TOTP_ENROLL, TOTP_STORE_PG (the built backend) and TOTP_STORE_PG_PATH.
#
# Skips (77) only when not root; everything it starts dies with the namespace.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../system/lib/sandbox.sh
source "$here/../system/lib/sandbox.sh"
# shellcheck source=../system/lib/check.sh
source "$here/../system/lib/check.sh"

mode=$1 resetd=$2 fixture=$3 pam_module=$4 build=$5
python=${TOTP_RESET_PYTHON3:-/usr/bin/python3}
source_root=$(cd "$here/../.." && pwd)

sandbox_enter "$@"
sandbox_setup

work=$SANDBOX_ROOT/tmp/reset
mkdir -p "$work/mail"
state_dir=/var/lib/pam_totp
secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP
old_password='Old-Passw0rd-1'
recovery_code=ABCD-EFGH-JKMN
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for DESCRIPTION SECONDS COMMAND...: polls COMMAND every 0.1 s.
wait_for() {
    local what=$1 seconds=$2
    shift 2
    local tries=$((seconds * 10))
    until "$@" >/dev/null 2>&1; do
        tries=$((tries - 1))
        if [ "$tries" -le 0 ]; then
            echo "FAIL: $what did not happen within $seconds s"
            return 1
        fi
        sleep 0.1
    done
}

# A uid below UID_MIN that nobody has.
system_uid() {
    local uid=990
    while getent passwd "$uid" >/dev/null || getent group "$uid" >/dev/null; do
        uid=$((uid - 1))
    done
    echo "$uid"
}

# The abuse cases time requests to tell a token write on the request path from none: on
# the sandbox's tmpfs an fsync costs nothing, so there the state lives on a real disk.
if [ "$mode" = abuse ]; then
    disk_state=""
    for candidate in "$build" /var/tmp; do
        case $(findmnt -T "$candidate" -no FSTYPE) in
            tmpfs | ramfs) ;;
            *) disk_state=$(mktemp -d "$candidate/reset-abuse-state.XXXXXX") && break ;;
        esac
    done
    if [ -z "$disk_state" ]; then
        echo "FAIL: no disk-backed directory for the state (the build tree and /var/tmp are in memory)"
        exit 1
    fi
    chmod 0700 "$disk_state"
    mount --bind "$disk_state" "$state_dir"
    trap 'cleanup; umount "$state_dir"; rm -rf "$disk_state"' EXIT
fi

# --- accounts: the web process's own, and users in every state the service tells apart ---
useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin totp-resetd
enroll() { "$fixture" "$state_dir" "$@"; }
add_enrolled() { # NAME EMAIL [verified|unverified] [UID] [RECOVERY_CODE]
    sandbox_add_user "$1" "$old_password" "${4:-}"
    enroll "$1" "$secret" "$2" "${3:-verified}" ${5:+"$5"}
}
# add_alias NAME OWNER before|after: another passwd line for OWNER's uid, with OWNER's
# password in its own shadow line, ahead of OWNER's line or after it.
add_alias() {
    local name=$1 owner=$2 where=$3 line
    line="$name:x:$(getent passwd "$owner" | cut -d: -f3-)"
    if [ "$where" = before ]; then
        sed -i "/^$owner:/i $line" /etc/passwd
    else
        echo "$line" >>/etc/passwd
    fi
    echo "$name:$(getent shadow "$owner" | cut -d: -f2-)" >>/etc/shadow
}
add_enrolled alice alice@example.test
if [ "$mode" = abuse ]; then
    add_enrolled tim tim@example.test       # timing: a user who gets mail
    add_enrolled mia mia@example.test       # the per-account mail limit
    add_enrolled eve eve@example.test       # expiry
    add_enrolled hal hal@example.test       # the Host header
    add_enrolled ivy ivy@example.test       # the mail after the header injection attempts
    add_enrolled bob bob@example.test unverified
    add_enrolled carol carol@example.test
    usermod -L carol                        # locked: '!' in front of the hash
    add_enrolled svcacct svcacct@example.test verified "$(system_uid)"
    sandbox_add_user dave "$old_password"   # not enrolled
    # reset_exclude_groups (default sudo wheel adm root ...): supplementary and primary group.
    add_enrolled sudoer sudoer@example.test
    usermod -aG sudo sudoer
    getent group wheel >/dev/null || groupadd --system wheel
    add_enrolled wheeler wheeler@example.test
    usermod -g wheel wheeler
    add_enrolled gus gus@example.test       # put into adm after getting a link
    add_enrolled xavier xavier@example.test
    chage -E 2000-01-01 xavier              # expired account
    add_enrolled dora dora@example.test
    chage -d 2000-01-01 -M 30 -I 7 dora     # disabled after password inactivity (pam_unix)
    add_enrolled lena lena@example.test     # locked by the admin during her reset
    add_enrolled rita rita@example.test verified "" "$recovery_code"
    add_enrolled nora nora@example.test     # records a new address after getting a link
    add_enrolled pia pia@example.test       # the attempts one link allows
    add_enrolled quin quin@example.test     # policy refusals count against the address
    add_enrolled vic vic@example.test       # the views one link allows
    # Alias lines: a second name for one uid. sa comes before the sudoer sam, so it is the
    # uid's own name (getpwuid) and totp-enroll keys its record "sa"; umax comes after uma.
    add_enrolled sam sam@example.test
    usermod -aG sudo sam
    add_alias sa sam before
    enroll sa "$secret" sam@example.test verified
    add_enrolled uma uma@example.test
    add_alias umax uma after
fi
if [ "$mode" = processes ]; then
    add_enrolled tim tim@example.test
fi

install -m 0644 -o root -g root "$source_root/config/pam.d/totp-reset" /etc/pam.d/totp-reset
sandbox_pam_service reset-check <<EOF
auth     required pam_unix.so
account  required pam_unix.so
EOF
sandbox_pam_service totp-login <<EOF
auth     required $pam_module
EOF

# --- the fleet store ---
store_settings=""
if [ "$mode" = postgresql ]; then
    sandbox_private_dir "$(dirname "$TOTP_STORE_PG_PATH")" 0755 root:root
    install -m 0644 -o root -g root "$TOTP_STORE_PG" "$TOTP_STORE_PG_PATH"
    echo "db-test-password" | sandbox_write_file /etc/security/pam_totp.dbpass 0600 root:root
    openssl rand -hex 32 | sandbox_write_file /etc/security/pam_totp.key 0600 root:root
    pg=$source_root/tests/pg/pg_server.sh
    pg_dir=$work/pg
    pg_port=$("$pg" init "$pg_dir" /etc/security/pam_totp.dbpass)
    "$pg" start "$pg_dir"
    store_settings="store = postgresql
store_dsn = postgresql://postgres@127.0.0.1:$pg_port/postgres?sslmode=disable
store_password_file = /etc/security/pam_totp.dbpass"
    printf '[global]\nstate_dir = %s\n%s\n' "$state_dir" "$store_settings" |
        sandbox_write_file /etc/security/pam_totp-migrate.conf 0644 root:root
    "$TOTP_ENROLL" db-upgrade --config /etc/security/pam_totp-migrate.conf
    "$TOTP_ENROLL" migrate --to postgresql --config /etc/security/pam_totp-migrate.conf
    rm "$state_dir/alice"  # from here on only the database knows her
    trap '"$pg" stop "$pg_dir"; cleanup' EXIT
fi

# --- mail ---
smtp_port=$(free_port)
"$python" "$here/smtp_sink.py" "$smtp_port" "$work/mail" 2>"$work/smtp.log" &
pids+=($!)
wait_for "the SMTP server start" 10 test -e "$work/mail/ready"

# --- the service ---
# write_config PORT LIFETIME [TRUSTED_PROXIES [LISTEN [LISTEN_GROUP]]]: the whole
# pam_totp.conf for one instance (PORT names it and is in base_url); the test client passes
# X-Real-IP from loopback, so the instances trust 127.0.0.1 unless told otherwise.
write_config() {
    sandbox_write_file "/etc/security/pam_totp-$1.conf" 0644 root:root <<EOF
[global]
state_dir = $state_dir
max_failures = 50
$store_settings

[reset]
base_url = http://127.0.0.1:$1/
listen = ${4:-127.0.0.1:$1}
${5:+listen_group = $5}
site_name = Example Lab
client_ip_header = X-Real-IP
trusted_proxies = ${3-127.0.0.1}
token_lifetime = $2
requests_per_ip = 5
failures_per_ip = 8
mails_per_account = 3
max_body = 4096
smtp_url = smtp://127.0.0.1:$smtp_port
smtp_starttls = optional
mail_from = Example Lab <reset@example.test>
smtp_timeout = 5
EOF
}

# start_resetd PORT LIFETIME [TRUSTED_PROXIES [LISTEN [LISTEN_GROUP]]]: starts an instance
# (its log: $resetd_log, else resetd.log), waits until it answers.
start_resetd() {
    write_config "$@"
    local reach=()
    case ${4:-} in
    unix:*) reach=(--unix-socket "${4#unix:}") ;;
    esac
    # No leak check: LeakSanitizer cannot stop the threads of a chrooted, non-dumpable
    # process; the unit tests cover the same code with it.
    ASAN_OPTIONS=detect_leaks=0 "$resetd" --config "/etc/security/pam_totp-$1.conf" \
        --foreground 2>>"${resetd_log:-$work/resetd.log}" &
    pids+=($!)
    wait_for "totp-resetd on port $1 answering" 20 \
        curl -sf "${reach[@]}" "http://127.0.0.1:$1/style.css"
}

port=$(free_port)
start_resetd "$port" 900
resetd_pid=${pids[-1]}
base=http://127.0.0.1:$port/

case "$mode" in
abuse)
    short_port=$(free_port)
    start_resetd "$short_port" 10
    untrusted_port=$(free_port)
    resetd_log=$work/resetd-untrusted.log start_resetd "$untrusted_port" 900 ""
    web_pid=$(pgrep -P "$resetd_pid")
    status=/proc/$web_pid/status
    web_uid=$(id -u totp-resetd)
    check "the web process runs as totp-resetd" \
        test "$(awk '/^Uid:/ {print $2, $3, $4, $5}' "$status")" = "$web_uid $web_uid $web_uid $web_uid"
    check "the web process has no supplementary groups" \
        test -z "$(awk '/^Groups:/ {print $2}' "$status")"
    check "the web process has no capabilities" \
        test "$(awk '/^CapEff:|^CapPrm:|^CapBnd:/ {print $2}' "$status" | sort -u)" = 0000000000000000
    check "the web process cannot gain privileges" \
        test "$(awk '/^NoNewPrivs:/ {print $2}' "$status")" = 1
    check "the web process is confined to the empty jail" \
        test "$(readlink "/proc/$web_pid/root")" = /run/totp-resetd
    check "the monitor stays root" test "$(awk '/^Uid:/ {print $3}' "/proc/$resetd_pid/status")" = 0

    # systemd socket activation: the passed socket is used, not the configured address.
    configured_port=$(free_port) activated_port=$(free_port)
    write_config "$configured_port" 900
    ASAN_OPTIONS=detect_leaks=0 systemd-socket-activate -l "127.0.0.1:$activated_port" \
        "$resetd" --config "/etc/security/pam_totp-$configured_port.conf" --foreground \
        2>>"$work/resetd.log" &
    pids+=($!)
    check "a socket passed by systemd is served" \
        wait_for "socket activation" 20 curl -sf "http://127.0.0.1:$activated_port/style.css"
    check "the configured address is then not opened" \
        sh -c "! curl -s 'http://127.0.0.1:$configured_port/' >/dev/null"
    activated_sock=/run/totp-resetd/activated.sock
    ASAN_OPTIONS=detect_leaks=0 systemd-socket-activate -l "$activated_sock" \
        "$resetd" --config "/etc/security/pam_totp-$configured_port.conf" --foreground \
        2>>"$work/resetd.log" &
    pids+=($!)
    check "a unix socket passed by systemd is served" \
        wait_for "unix socket activation" 20 \
        curl -sf --unix-socket "$activated_sock" http://localhost/style.css

    # A proxy on the same host: a unix socket only the proxy's group may connect to. The
    # header is believed from it only with "unix" in trusted_proxies.
    loopback_warning="trusts a loopback address"
    groupadd --system webproxy
    proxied_sock=/run/totp-resetd/proxied.sock plain_sock=/run/totp-resetd/plain.sock
    resetd_log=$work/resetd-unix.log start_resetd "$(free_port)" 900 unix \
        "unix:$proxied_sock" webproxy
    resetd_log=$work/resetd-unix.log start_resetd "$(free_port)" 900 127.0.0.1 \
        "unix:$plain_sock"
    check "the unix socket is 0660, root and the listen_group" \
        test "$(stat -c '%a %U %G' "$proxied_sock")" = "660 root webproxy"
    check "without listen_group only root's group may connect" \
        test "$(stat -c '%a %U %G' "$plain_sock")" = "660 root root"
    check "a local user outside the group cannot connect" \
        sh -c "! setpriv --reuid=65534 --regid=65534 --clear-groups \
            curl -sf --unix-socket '$proxied_sock' http://localhost/style.css"
    # Refusals at start: the service exits at once, it does not wait for the timeout.
    bad_port=$(free_port)
    write_config "$bad_port" 900 unix unix:/run/totp-resetd/bad.sock no-such-group
    check "a listen_group that does not exist stops the service at start" \
        sh -c "! timeout 20 '$resetd' --config /etc/security/pam_totp-$bad_port.conf \
            --foreground 2>>'$work/resetd-unix.log'"
    mkdir /run/totp-resetd-other && touch /run/totp-resetd-other/file
    write_config "$bad_port" 900 unix unix:/run/totp-resetd-other/file
    check "a file at the socket path that is no socket stops the service and stays" \
        sh -c "! timeout 20 '$resetd' --config /etc/security/pam_totp-$bad_port.conf \
            --foreground 2>>'$work/resetd-unix.log' && test -f /run/totp-resetd-other/file"
    chmod 0777 /run/totp-resetd-other
    write_config "$bad_port" 900 unix unix:/run/totp-resetd-other/http.sock
    check "a socket directory others may write to stops the service" \
        sh -c "! timeout 20 '$resetd' --config /etc/security/pam_totp-$bad_port.conf \
            --foreground 2>>'$work/resetd-unix.log'"
    mkdir -p /run/totp-open/inner && chmod 0777 /run/totp-open && chmod 0755 /run/totp-open/inner
    write_config "$bad_port" 900 unix unix:/run/totp-open/inner/http.sock
    check "a socket path through a directory others may write to stops the service" \
        sh -c "! timeout 20 '$resetd' --config /etc/security/pam_totp-$bad_port.conf \
            --foreground 2>>'$work/resetd-unix.log' && test ! -e /run/totp-open/inner/http.sock"
    ln -s /run/totp-resetd /run/totp-link
    write_config "$bad_port" 900 unix unix:/run/totp-link/http.sock
    check "a socket path through a symlink stops the service" \
        sh -c "! timeout 20 '$resetd' --config /etc/security/pam_totp-$bad_port.conf \
            --foreground 2>>'$work/resetd-unix.log' && test ! -e /run/totp-resetd/http.sock"
    write_config "$bad_port" 900 unix "unix:$proxied_sock" webproxy
    check "a second instance does not take over a socket in use" \
        sh -c "! timeout 20 '$resetd' --config /etc/security/pam_totp-$bad_port.conf \
            --foreground 2>>'$work/resetd-unix.log' &&
            curl -sf --unix-socket '$proxied_sock' http://localhost/style.css >/dev/null"
    check "a unix listener logs no loopback warning" \
        sh -c "! grep -q '$loopback_warning' '$work/resetd-unix.log'"
    check "of the two unix listeners, the one not trusting unix peers warns that they share a limit" \
        test "$(grep -c 'counts every client as one address' "$work/resetd-unix.log")" = 1
    # Loopback TCP with trusted_proxies = 127.0.0.1: every local user is a trusted proxy.
    resetd_log=$work/resetd-loopback.log start_resetd "$(free_port)" 900 127.0.0.1
    check "a loopback TCP listener trusting 127.0.0.1 warns once at start" \
        test "$(grep -c "$loopback_warning" "$work/resetd-loopback.log")" = 1
    check "a loopback TCP listener trusting no proxy does not warn" \
        sh -c "! grep -q '$loopback_warning' '$work/resetd-untrusted.log'"

    args=(--base "$base" --short-base "http://127.0.0.1:$short_port/"
        --untrusted-base "http://127.0.0.1:$untrusted_port/" --mail "$work/mail"
        --state "$state_dir" --secret "$secret" --old-password "$old_password"
        --log "$work/resetd.log" --code-helper "$source_root/tests/system/lib/totp-code"
        --recovery-code "$recovery_code" --enroll "$TOTP_ENROLL"
        --config "/etc/security/pam_totp-$port.conf" --work "$work"
        --proxied-socket "$proxied_sock" --plain-socket "$plain_sock")
    check "abuse cases" "$python" "$here/abuse_cases.py" "${args[@]}"
    ;;
processes)
    instances=()
    for _ in 1 2; do
        instance_port=$(free_port)
        write_config "$instance_port" 900
        instances+=(--instance "$instance_port=/etc/security/pam_totp-$instance_port.conf")
    done
    check "process cases" "$python" "$here/process_cases.py" "${instances[@]}" \
        --resetd "$resetd" --mail "$work/mail" --state "$state_dir" --secret "$secret" \
        --old-password "$old_password" --log "$work/resetd.log" --work "$work" \
        --code-helper "$source_root/tests/system/lib/totp-code"
    ;;
browser)
    node_dir=$build/node
    mkdir -p "$node_dir"
    cp "$here/package.json" "$here/package-lock.json" "$node_dir/"
    if [ ! -d "$node_dir/node_modules/playwright-core" ]; then
        (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error)
    fi
    export NODE_PATH=$node_dir/node_modules
    new_password='Tangerine-Violin-42-Harbour'
    HOME=$work check "the browser walks the whole reset" \
        node "$here/browser_flow.cjs" --base "$base" --mail "$work/mail" \
        --user alice --email alice@example.test --password "$new_password" --secret "$secret" \
        --state "$state_dir/alice" --code-helper "$source_root/tests/system/lib/totp-code" \
        --screenshot "$build/reset-success.png" --profile "$work/chromium"
    check "the new password works through PAM" \
        sh -c "printf '%s\n' '$new_password' | pamtester reset-check alice authenticate"
    check "the old password no longer works" \
        sh -c "! printf '%s\n' '$old_password' | pamtester reset-check alice authenticate"
    check "the change notice was mailed" \
        grep -l '"subject": "Your password on Example Lab was changed"' "$work/mail/"*.json
    token=$(grep -o 'token=[0-9a-f]\{24\}\.[0-9a-f]\{64\}' "$work/mail/0001.json" | head -n 1)
    token=${token#token=}
    check "the daemon logged neither the token nor the password" \
        sh -c "[ -n '$token' ] && ! grep -qF -e '$token' -e '$new_password' '$work/resetd.log'"
    ;;
postgresql)
    check "a reset link is issued and used through the database" \
        "$python" "$here/pg_flow.py" --base "$base" --mail "$work/mail" --secret "$secret" \
        --log "$work/resetd.log" --code-helper "$source_root/tests/system/lib/totp-code" \
        --sql "$pg sql $pg_dir"
    ;;
*)
    echo "unknown mode $mode" >&2
    exit 2
    ;;
esac

if [ "$CHECK_FAILED" -ne 0 ]; then
    for log in "$work"/resetd*.log; do
        echo "--- $log ---"
        cat "$log"
    done
fi
finish
