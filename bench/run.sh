#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Reproduces the whole benchmark table of BENCHMARKS.md with one command (as root):
#
#   sudo bench/run.sh             # N = 100, 10 000, 100 000; P = 1, 2, 8 (a few minutes)
#   sudo bench/run.sh --quick     # N = 100 and 10 000, fewer samples (a smoke test)
#   sudo PAM_BENCH_USERS="100 1000" PAM_BENCH_SAMPLES=500 bench/run.sh   # other sizes
#   sudo PAM_BENCH_PG_USERS=0 bench/run.sh   # without the PostgreSQL store
#
# Logins are measured in long-lived processes that log in again and again (each module
# loaded once), then, for the smallest and the largest N with P = 1 and 2, with a fresh
# process per login, as sshd, sudo, su and login run PAM (pam_bench --fresh-process with
# bench/pam_once: once like sudo/su/login, once like sshd).
#
# Installs what is missing (apt-get), builds pam_totp.so and pam_bench in build-bench
# (RelWithDebInfo), then measures inside a private mount namespace with a syslog sink at
# /dev/log (see common.sh). Logins go through pam_wrapper service files and nss_wrapper users
# in private directories on the disk being measured (PAM_BENCH_DATA_DIR, default
# build-bench/bench-data, kept between runs: `bench/run.sh --clean` removes it).
#
# Output (PAM_BENCH_OUT, default build-bench/bench-results): raw.tsv (every measurement),
# machine.txt, syslog.log (what the modules logged), reset-memory.log (where totp-resetd's
# memory is, bench/service_memory.py) and table.md (the tables).
# bench/profile.sh gives the profiles behind BENCHMARKS.md's analysis.
set -euo pipefail

source "$(dirname "$0")/common.sh"
users_list=(100 10000 100000)
samples=1000
fresh_samples=300
fresh_procs=1,2
block=4

args=("$@")
case "${1:-}" in
    "") ;;
    --quick) users_list=(100 10000); samples=300; fresh_samples=100 ;;
    --clean)
        echo "bench/run.sh: removing $data_dir (this can take minutes)"
        rm -rf "$data_dir"
        exit 0
        ;;
    *) echo "usage: bench/run.sh [--quick | --clean]" >&2; exit 2 ;;
esac
# For experiments: PAM_BENCH_USERS="100 1000", PAM_BENCH_SAMPLES, PAM_BENCH_BLOCK,
# PAM_BENCH_PROCS="1,8", PAM_BENCH_FRESH_SAMPLES (0: no fresh-process runs).
# (Only the default run reproduces BENCHMARKS.md.)
[ -n "${PAM_BENCH_USERS:-}" ] && read -r -a users_list <<< "$PAM_BENCH_USERS"
samples=${PAM_BENCH_SAMPLES:-$samples}
fresh_samples=${PAM_BENCH_FRESH_SAMPLES:-$fresh_samples}
block=${PAM_BENCH_BLOCK:-$block}
procs=${PAM_BENCH_PROCS:-1,2,8}
# PAM_BENCH_CANDIDATE=/other/build/pam_module/pam_totp.so measures a second build of the
# module (e.g. with a proposed change) side by side with this tree's, in the same run.
# PAM_BENCH_CANDIDATE_AUTHENTICATORS=8 gives each of the candidate's users that many
# authenticators: with this tree's pam_totp.so as the candidate, the cost of several
# authenticators per user (BENCHMARKS.md).
candidate=()
[ -n "${PAM_BENCH_CANDIDATE:-}" ] && candidate=(--candidate "$PAM_BENCH_CANDIDATE"
    --candidate-authenticators "${PAM_BENCH_CANDIDATE_AUTHENTICATORS:-1}")

# pam_oath reads its whole usersfile on every login and rewrites all of it on every
# success: at 100 000 users one login takes tens of milliseconds, so it gets a tenth of
# the samples there (the table says so). $1: N, $2: the others' samples.
oath_samples_for() {
    if [ "$1" -ge 100000 ]; then echo $(($2 / 10)); else echo "$2"; fi
}

describe_machine() {
    local device
    device=$(df --output=source "$data_dir" | tail -1)
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "commit: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(
            git -C "$repo" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
        echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores"
        echo "memory: $(free -g | awk '/^Mem:/ {print $2}') GiB"
        echo "kernel: $(uname -r)"
        echo "disk: $data_dir on $device, $(findmnt -no FSTYPE,OPTIONS -T "$data_dir")"
        echo "compiler: $(c++ --version | head -1)"
        echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
        for package in libpam0g libpam-google-authenticator libpam-oath liboath0 libpam-wrapper \
                       libnss-wrapper libssl3; do
            echo "package: $package $(dpkg-query -W -f='${Version}' "$package" 2>/dev/null || echo -)"
        done
    } > "$out/machine.txt"
}

# Every login through pam_totp and google-authenticator logs at least one line; the sink
# must have them all (pam_permit and pam_oath log nothing on a normal login).
check_syslog() {
    local tag lines
    for tag in bench-totp bench-google bench-totp-pg; do
        lines=$(grep -cE "\($tag:|[] ]$tag\(" "$out/syslog.log" || true)
        printf 'syslog\t%s\t%s\n' "$tag" "$lines" >> "$out/raw.tsv"
    done
}

# The reset service: wrk against totp-resetd on loopback, in its own sandbox
# (bench/reset_service.sh); its syslog goes to the same sink.
bench_reset_service() {
    "$repo/bench/reset_service.sh" "$build/reset_service/totp-resetd" \
        "$build/bench/bench_reset_enroll" "$out/raw.tsv"
}

# pam_totp with the PostgreSQL store for N up to PAM_BENCH_PG_USERS (default
# 100): a server on loopback run as the postgres user by tests/pg/pg_server.sh, its data
# on the measured disk, kept between runs. Unlike the test server it keeps fsync on: every
# login's commit is durable, as the file store's update is. Key and password: root 0600.
pg_dir=$data_dir/pg
pg_max_users=${PAM_BENCH_PG_USERS:-100}
pg_server=$repo/tests/pg/pg_server.sh

start_pg() {
    local password=$data_dir/pg-password key=$data_dir/pg-store.key
    if [ ! -f "$pg_dir/port" ]; then
        (umask 077 && openssl rand -hex 16 > "$password" && openssl rand -hex 32 > "$key")
        "$pg_server" init "$pg_dir" "$password" > /dev/null
        echo "fsync = on" >> "$pg_dir/data/postgresql.conf"
    fi
    "$pg_server" start "$pg_dir"
    pg_args=(--pg-dsn "postgresql://postgres@127.0.0.1:$(cat "$pg_dir/port")/postgres?sslmode=disable"
             --pg-key-file "$key" --pg-password-file "$password")
}

# At 100 000 users each fresh process first spends tens of milliseconds (outside the timed
# window) in nss_wrapper, which parses its whole passwd file at the first lookup: a third
# of the samples there.
fresh_samples_for() {
    if [ "$1" -ge 100000 ]; then echo $((fresh_samples / 3)); else echo "$fresh_samples"; fi
}

# The smallest and the largest N again, each login in a new process (pam_bench
# --fresh-process): pam_once links libpam and libc only, like sudo, su and login;
# pam_once_crypto has libcrypto loaded and initialised too, like sshd.
measure_fresh_processes() {
    local n pg program n_samples
    for n in $(printf '%s\n' "${users_list[@]}" | sort -n | sed -n '1p;$p' | uniq); do
        pg=()
        if [ "$n" -le "$pg_max_users" ]; then pg=("${pg_args[@]}"); fi
        n_samples=$(fresh_samples_for "$n")
        for program in pam_once pam_once_crypto; do
            pam_bench "${pam_bench_args[@]}" "${candidate[@]}" "${pg[@]}" --users "$n" \
                --fresh-process "$build/bench/$program" --procs "$fresh_procs" \
                --samples "$n_samples" --oath-samples "$(oath_samples_for "$n" "$n_samples")" \
                --block "$block" --data-dir "$data_dir" --out "$out/raw.tsv"
        done
    done
}

stop_all() {
    if [ -f "$pg_dir/data/postmaster.pid" ]; then "$pg_server" stop "$pg_dir"; fi
    stop_sink
}

measure() {
    trap stop_all EXIT
    serve_dev_log "$out/syslog.log"
    if [ "$pg_max_users" -gt 0 ]; then start_pg; fi
    local n pg
    for n in "${users_list[@]}"; do
        pg=()
        if [ "$n" -le "$pg_max_users" ]; then pg=("${pg_args[@]}"); fi
        pam_bench "${pam_bench_args[@]}" "${candidate[@]}" "${pg[@]}" --users "$n" \
            --procs "$procs" --samples "$samples" \
            --oath-samples "$(oath_samples_for "$n" "$samples")" \
            --block "$block" --data-dir "$data_dir" --out "$out/raw.tsv"
    done
    if [ "$fresh_samples" -gt 0 ]; then measure_fresh_processes; fi
    bench_reset_service
    stop_all
    check_syslog
}

if [ "${PAM_BENCH_INSIDE:-}" = 1 ]; then
    measure
    exit 0
fi

require_root
install_missing wrk curl
build_targets
mkdir -p "$out"
rm -f "$out/raw.tsv" "$out/syslog.log"
make_data_dir
describe_machine
start=$(date +%s)
(enter_namespace "${args[@]}") || { echo "bench/run.sh: measurement failed" >&2; exit 1; }
{
    echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo "run time: $(( $(date +%s) - start )) s"
} >> "$out/machine.txt"
/usr/bin/python3 "$repo/bench/report.py" "$out/raw.tsv" "$out/machine.txt" > "$out/table.md"
cat "$out/table.md"
echo "bench/run.sh: results in $out (table.md, raw.tsv, machine.txt, syslog.log, reset-memory.log)"
