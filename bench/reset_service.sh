#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The reset-service benchmark: wrk against totp-resetd on loopback (as root).
#
#   bench/reset_service.sh TOTP_RESETD ENROLL_HELPER RAW_TSV
#
# Runs inside a private mount namespace over a copy of /etc (tests/system/lib/sandbox.sh),
# where it adds the service's own account and one enrolled user with a verified address.
# totp-resetd runs privilege-separated as shipped; its mail goes to an SMTP "server" that
# accepts connections and never answers, so any request that waited for mail would take
# smtp_timeout (20 s). Appends "reset" lines to RAW_TSV (bench/report.py reads them):
#   GET /            wrk, the form page with its CSRF cookie
#   POST /request    wrk, what a browser sends after loading the form once (bench/wrk/reset.lua)
#   ... and both again after a flood of at least 100 000 distinct client addresses (full
#   rate limiters, which evict rather than refuse)
#   mail check       one POST for the enrolled user, timed with curl
#   RSS              VmRSS/VmHWM (RssAnon/RssFile, PSS) of the monitor and the web process,
#                    idle, half-way through each load, and after; at the same moments the
#                    service's resident set with each physical page counted once, though both
#                    processes map it (bench/service_memory.py: anonymous and file-backed,
#                    and where it is by mapping in reset-memory.log next to RAW_TSV)
# PAM_BENCH_WRK_SECONDS (default 15) and PAM_BENCH_WRK_CONNECTIONS (default 16) change the load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../tests/system/lib/sandbox.sh
source "$here/../tests/system/lib/sandbox.sh"

resetd=$1 enroll=$2 raw=$3
memory_log=$(dirname "$raw")/reset-memory.log
seconds=${PAM_BENCH_WRK_SECONDS:-15}
connections=${PAM_BENCH_WRK_CONNECTIONS:-16}
smtp_timeout=20

sandbox_enter "$@"
sandbox_setup
: > "$memory_log"

pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

record() { printf 'reset\t%s\t%s\n' "$1" "$2" >> "$raw"; }

useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin totp-resetd
sandbox_add_user alice 'Old-Passw0rd-1'
"$enroll" /var/lib/pam_totp alice JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP alice@example.test verified

# An SMTP peer that accepts (the kernel completes the handshake) and never greets.
work=$SANDBOX_ROOT/tmp
/usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1024)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
time.sleep(3600)' "$work/smtp-port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$work/smtp-port" ] && break; sleep 0.1; done
smtp_port=$(cat "$work/smtp-port")

port=$(free_port)
sandbox_write_file /etc/security/pam_totp.conf 0644 root:root <<EOF
[global]
state_dir = /var/lib/pam_totp

[reset]
base_url = http://127.0.0.1:$port/
listen = 127.0.0.1:$port
site_name = Benchmark
client_ip_header = X-Real-IP
trusted_proxies = 127.0.0.1
requests_per_ip = 100000
failures_per_ip = 100000
smtp_url = smtp://127.0.0.1:$smtp_port
mail_from = Benchmark <reset@example.test>
smtp_timeout = $smtp_timeout
EOF
"$resetd" --config /etc/security/pam_totp.conf 2>"$work/resetd.log" &
monitor=$!
pids+=("$monitor")
for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$port/style.css" && break; sleep 0.1; done
web=$(pgrep -P "$monitor")
base=http://127.0.0.1:$port

# memory LABEL: VmRSS, VmHWM, their anonymous and file-backed parts and PSS (KiB), both
# processes; then both together, each physical page once (fails if its checks fail).
memory() {
    local who pid field name value
    for who in monitor web; do
        pid=${!who}
        for field in VmRSS VmHWM RssAnon RssFile; do
            record "${1}_${who}_${field}_kib" "$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$pid/status")"
        done
        # Shared library pages split between the processes that map them: these add up.
        record "${1}_${who}_Pss_kib" "$(awk '$1 == "Pss:" {print $2}' "/proc/$pid/smaps_rollup")"
    done
    /usr/bin/python3 "$here/service_memory.py" --log "$memory_log" --label "$1" \
        monitor="$monitor" web="$web" > "$work/memory-$1"
    while IFS=$'\t' read -r name value; do
        record "${1}_service_${name}" "$value"
    done < "$work/memory-$1"
}

# load NAME URL [wrk script arguments]: wrk for $seconds with a memory sample half-way.
load() {
    local name=$1 url=$2 line
    shift 2
    (sleep "$((seconds / 2))" && memory "${name}_load") &
    line=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$here/wrk/reset.lua" "$url" \
        -- "$@" | grep '^wrk')
    wait $!
    # wrk <requests> <duration µs> <p50 µs> <p99 µs> <non-2xx/3xx> <socket errors>
    read -r _ requests duration p50 p99 status errors <<< "$line"
    record "${name}_rps" "$(awk -v r="$requests" -v d="$duration" 'BEGIN {printf "%.0f", r / d * 1e6}')"
    record "${name}_p50_us" "$p50"
    record "${name}_p99_us" "$p99"
    record "${name}_non2xx" "$status"
    record "${name}_socket_errors" "$errors"
}

record connections "$connections"
record seconds "$seconds"
memory idle

# What a browser does first: load the form, keep the cookie, send the hidden field back.
form=$(curl -sf -c "$work/cookies" "$base/")
csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<< "$form")
cookie=$(awk '$6 == "csrf" {print "csrf=" $7}' "$work/cookies")
[ -n "$csrf" ] && [ -n "$cookie" ] || { echo "$0: no CSRF cookie or field in the form" >&2; exit 1; }

# Mail is sent in the background: with an SMTP peer that never answers, the answer to a
# request for an enrolled user with a verified address must still come at once.
mail_seconds=$(curl -sf -o /dev/null -w '%{time_total}' -b "$cookie" -H 'X-Real-IP: 10.1.0.1' \
    --data-urlencode "csrf=$csrf" --data-urlencode user=alice "$base/request")
record mail_check_seconds "$mail_seconds"
record smtp_timeout_seconds "$smtp_timeout"

load get "$base/" get
load post "$base/" post "$cookie" "$csrf" alice
memory after

# A flood of new client addresses (each request another one of 10.0.0.0/8) fills both
# per-address limiters past their capacity (eviction, not refusal); then the same loads
# again, against the full limiters.
# flood MODE ARGS...: wrk in MODE until at least 100 000 requests (each from a new address)
# went through; prints how many.
flood() {
    local done=0 line requests
    while [ "$done" -lt 100000 ]; do
        line=$(wrk -t2 -c"$connections" -d"${seconds}s" -s "$here/wrk/reset.lua" "$base/" \
            -- "$@" | grep '^wrk')
        read -r _ requests _ <<< "$line"
        done=$((done + requests))
    done
    echo "$done"
}
record flood_addresses "$(flood flood "$cookie" "$csrf" nobody)"
# ... and as many made-up links, filling the limiter of failures per address too.
record badlink_addresses "$(flood badlinks)"
memory full
load get_full "$base/" get
load post_full "$base/" post "$cookie" "$csrf" alice
memory after_full
