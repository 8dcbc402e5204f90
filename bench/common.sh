# SPDX-License-Identifier: Apache-2.0
# Shared by bench/run.sh and bench/profile.sh (sourced, not run).
#
# Everything measured runs inside a private mount namespace: /tmp is a private tmpfs
# (pam_wrapper keeps its per-process copy of libpam and the service files in /tmp/pam.X),
# and /dev/log is a socket served by bench/syslog_sink.py, so every module logs to a live
# reader as on a real server (without one, glibc's syslog falls back to slow console
# writes). The host's PAM configuration, users and passwords are never read or changed.

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${PAM_BENCH_BUILD:-$repo/build-bench}
out=${PAM_BENCH_OUT:-$build/bench-results}
# The sandboxes (up to 200 000 small files) are kept here between runs and overwritten in
# place: see pam_bench/sandbox.hpp for why they are not deleted. `bench/run.sh --clean`
# removes them (slowly).
data_dir=${PAM_BENCH_DATA_DIR:-$build/bench-data}

wrapper_env=(
    LD_PRELOAD=libpam_wrapper.so:libnss_wrapper.so
    PAM_WRAPPER=1
    PAM_WRAPPER_USE_SYSLOG=1       # pam_syslog() goes to /dev/log, as without the wrapper
    PAM_WRAPPER_DISABLE_DEEPBIND=1 # modules' getpwnam() must reach nss_wrapper
    NSS_WRAPPER_MODULE_SO_PATH=
)

pam_bench_args=(
    --module "$build/pam_module/pam_totp.so"
    --config "$repo/config/pam_totp.conf"
)

require_root() {
    [ "$(id -u)" = 0 ] || { echo "$0: run as root (sudo $0)" >&2; exit 1; }
}

# Installs missing Debian packages: the project's own list, then `extra` ones.
install_missing() {
    "$repo/scripts/install-deps.sh"
    local wanted=(util-linux python3 libpam-wrapper libnss-wrapper libpam-google-authenticator
                  libpam-oath "$@") missing=() package
    for package in "${wanted[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$' ||
            missing+=("$package")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "$0: installing ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
}

# RelWithDebInfo: optimised like Debian's own -O2 -g packages, with symbols for profiles.
build_targets() {
    mkdir -p "$build"
    # The PostgreSQL backend is loaded from its build tree (root-owned, like an installed one).
    cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTOTP_BUILD_TESTS=OFF \
        -DTOTP_BUILD_BENCH=ON -DTOTP_STORE_PG_PATH="$build/store_pg/pam_totp_store_pg.so" \
        > "$build/configure-bench.log" 2>&1 ||
        { cat "$build/configure-bench.log"; exit 1; }
    # By name: other parts of the tree may be mid-change and must not stop the benchmark.
    cmake --build "$build" -j"$(nproc)" --target pam_totp pam_bench \
        pam_totp_store_pg totp-resetd bench_reset_enroll
}

# The data directory, created as an ext4 "top directory" (chattr +T) so that each sandbox
# lands in a fresh block group.
make_data_dir() {
    if [ ! -d "$data_dir" ]; then
        mkdir -p "$data_dir"
        chattr +T "$data_dir" 2>/dev/null || true
    fi
}

# Re-runs the calling script in a private mount namespace (PAM_BENCH_INSIDE=1 there).
enter_namespace() {
    PAM_BENCH_INSIDE=1 exec unshare --mount --propagation private -- "$0" "$@"
}

# Inside the namespace: a private /tmp, and a tmpfs over /dev holding our socket at
# /dev/log with every entry of the real /dev bind-mounted back (devtmpfs is shared with
# the host, so /dev/log cannot simply be created there). The sink writes to $1.
serve_dev_log() {
    local logfile=$1 host_dev=/tmp/bench-host-dev entry name
    mount -t tmpfs -o mode=1777 bench-tmp /tmp
    mkdir -p "$host_dev"
    mount --rbind /dev "$host_dev"
    mount -t tmpfs -o mode=0755,nosuid bench-dev /dev
    for entry in "$host_dev"/* "$host_dev"/.[!.]*; do
        [ -e "$entry" ] || [ -L "$entry" ] || continue
        name=${entry##*/}
        # The sink's socket takes the place of the host's /dev/log (often a symlink to
        # journald's), which would make its bind fail.
        [ "$name" = log ] && continue
        if [ -L "$entry" ]; then
            cp -P "$entry" "/dev/$name"
        elif [ -d "$entry" ]; then
            mkdir "/dev/$name" && mount --rbind "$entry" "/dev/$name"
        else
            touch "/dev/$name" && mount --bind "$entry" "/dev/$name"
        fi
    done
    /usr/bin/python3 "$repo/bench/syslog_sink.py" /dev/log "$logfile" &
    sink_pid=$!
    for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
    logger -u /dev/log --socket-errors=on -t pam_bench "syslog sink check"
    for _ in $(seq 50); do
        grep -q 'syslog sink check' "$logfile" 2>/dev/null && return
        sleep 0.1
    done
    echo "$0: the syslog sink did not receive a test message" >&2
    exit 1
}

stop_sink() {
    if [ -n "${sink_pid:-}" ]; then
        kill -TERM "$sink_pid" 2>/dev/null || true
        wait "$sink_pid" 2>/dev/null || true
        sink_pid=
    fi
}

# pam_bench with pam_wrapper and nss_wrapper preloaded.
pam_bench() {
    env "${wrapper_env[@]}" "$build/bench/pam_bench" "$@"
}
