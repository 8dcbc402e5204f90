#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The profiles behind the analysis in BENCHMARKS.md: where one login's time goes.
#
#   sudo bench/profile.sh [USERS]     (default 1000 enrolled users: more than the logins,
#                                      so no user is rewound within a time step)
#   sudo PAM_BENCH_PROFILE="syscalls dlopen" bench/profile.sh    # only some of the parts
#
# Writes to build-bench/bench-results/profile/:
#   syscalls.txt        system calls per login, every operation (strace -c, the difference
#                       between a long and a short run, so set-up and enrollment cancel out)
#   callgrind-*.txt     instructions per login, inclusive, for the floor and pam_totp
#                       (valgrind --tool=callgrind, collecting only inside pam_login())
#   perf-*.txt          on-CPU samples with call graphs, kernel included (perf record)
#   dlopen.txt          dlopen()+dlclose() of each module alone, warm and in a fresh process
# Same sandbox, namespace and syslog sink as bench/run.sh (see common.sh).
set -euo pipefail
source "$(dirname "$0")/common.sh"

users=${1:-1000}
profile_dir=$out/profile

profile_syscalls() {
    local op short=40 long=240 run
    for op in floor durable_update user_lookup totp/valid totp/wrong google/valid google/wrong \
              oath/valid oath/wrong; do
        for run in $short $long; do
            env "${wrapper_env[@]}" strace -f -c -U calls,name -o "$profile_dir/strace.$run" \
                "$build/bench/pam_bench" "${pam_bench_args[@]}" --users "$users" --procs 1 \
                --samples "$run" --block "$((run / 4))" --only "$op" --data-dir "$data_dir" \
                --out /dev/null > /dev/null 2>&1
        done
        /usr/bin/python3 - "$op" "$profile_dir/strace.$short" "$profile_dir/strace.$long" \
            "$((long - short))" <<'EOF'
import re, sys
op, short, long_, logins = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def counts(path):
    found = {}
    for line in open(path):
        m = re.match(r"\s*(\d+)\s+(\w+)\s*$", line)
        if m and m.group(2) not in ("total", "getrusage"):  # getrusage: the harness's own
            found[m.group(2)] = int(m.group(1))
    return found
a, b = counts(short), counts(long_)
per = {name: (b.get(name, 0) - a.get(name, 0)) / logins for name in b}
per = {k: v for k, v in per.items() if v >= 0.5}
total = sum(per.values())
print(f"{op:14} {total:5.0f} calls/login: " +
      ", ".join(f"{k} {v:.0f}" for k, v in sorted(per.items(), key=lambda kv: -kv[1])))
EOF
    done > "$profile_dir/syscalls.txt"
    rm -f "$profile_dir"/strace.*
}

profile_callgrind() {
    local op name file
    for op in floor totp/valid totp/wrong google/valid; do
        name=${op//\//-}
        rm -f "$profile_dir"/callgrind.out.*
        env "${wrapper_env[@]}" valgrind --tool=callgrind --toggle-collect='bench::pam_login*' \
            --callgrind-out-file="$profile_dir/callgrind.out.%p" \
            "$build/bench/pam_bench" "${pam_bench_args[@]}" --users "$users" --procs 1 \
            --samples 200 --block 50 --only "$op" --data-dir "$data_dir" --out /dev/null \
            > /dev/null 2>&1
        file=$(ls -S "$profile_dir"/callgrind.out.* | head -1)  # the worker
        {
            echo "# $op: 204 logins (4 warm-up); divide by 204 for one login"
            callgrind_annotate --inclusive=yes --auto=no --threshold=99.5 "$file"
        } > "$profile_dir/callgrind-$name.txt"
        rm -f "$profile_dir"/callgrind.out.*
    done
}

profile_perf() {
    local op name
    for op in totp/valid google/valid; do
        name=${op//\//-}
        env "${wrapper_env[@]}" perf record -q -F 10000 -e cpu-clock --call-graph dwarf,16384 \
            -o "$profile_dir/perf.data" "$build/bench/pam_bench" "${pam_bench_args[@]}" \
            --users "$users" --procs 1 --samples 1000 --block 250 --only "$op" \
            --data-dir "$data_dir" --out /dev/null > /dev/null 2>&1
        # The worker process (the one that logged in) has the most samples.
        local worker
        worker=$(perf report -i "$profile_dir/perf.data" --no-children --sort pid --stdio -g none 2>/dev/null |
                 awk '!/^#/ && /pam_bench/ {split($2, a, ":"); print a[1]; exit}')
        perf report -i "$profile_dir/perf.data" --pid "$worker" --children --sort sym --stdio \
            -g none --percent-limit 1 2>/dev/null > "$profile_dir/perf-$name.txt"
        rm -f "$profile_dir/perf.data"
    done
}

# dlopen()+dlclose() of each module, as pam_start()/pam_end() do. "warm": in a process that
# already has libpam, libcrypto and libstdc++ (like the harness; sshd has libcrypto), so
# only the module and its other dependencies are mapped each time. "cold": the first
# dlopen() in a fresh process with only libpam loaded (like su, sudo or login), which also
# maps the module's libraries and runs their constructors.
profile_dlopen() {
    local module
    for module in "$build/pam_module/pam_totp.so" \
                  /usr/lib/x86_64-linux-gnu/security/pam_google_authenticator.so \
                  /usr/lib/x86_64-linux-gnu/security/pam_oath.so \
                  /usr/lib/x86_64-linux-gnu/security/pam_permit.so; do
        /usr/bin/python3 - "$module" <<'EOF'
import ctypes, statistics, subprocess, sys, time
module = sys.argv[1]
cold_script = (
    "import ctypes, time\n"
    "ctypes.CDLL('libpam.so.0', mode=ctypes.RTLD_GLOBAL)\n"
    "dl = ctypes.CDLL(None)\n"
    "dl.dlopen.restype = ctypes.c_void_p\n"
    "dl.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]\n"
    "start = time.perf_counter_ns()\n"
    f"dl.dlopen({module.encode()!r}, 2)\n"
    "print((time.perf_counter_ns() - start) / 1000)\n")
cold = [float(subprocess.run([sys.executable, "-c", cold_script], check=True,
                             capture_output=True, text=True).stdout) for _ in range(40)]
ctypes.CDLL("libpam.so.0", mode=ctypes.RTLD_GLOBAL)
ctypes.CDLL("libcrypto.so.3", mode=ctypes.RTLD_GLOBAL)
ctypes.CDLL("libstdc++.so.6", mode=ctypes.RTLD_GLOBAL)
dl = ctypes.CDLL(None)
dl.dlopen.restype = ctypes.c_void_p
dl.dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
dl.dlclose.argtypes = [ctypes.c_void_p]
warm = []
for _ in range(2000):
    start = time.perf_counter_ns()
    dl.dlclose(dl.dlopen(module.encode(), 2))  # RTLD_NOW, as libpam does
    warm.append((time.perf_counter_ns() - start) / 1000)
print(f"{module}: warm dlopen+dlclose median {statistics.median(warm):.0f} µs, "
      f"cold first dlopen median {statistics.median(cold):.0f} µs")
EOF
    done > "$profile_dir/dlopen.txt"
}

if [ "${PAM_BENCH_INSIDE:-}" = 1 ]; then
    trap stop_sink EXIT
    serve_dev_log "$profile_dir/syslog.log"
    for part in ${PAM_BENCH_PROFILE:-syscalls dlopen callgrind perf}; do
        "profile_$part"
    done
    exit 0
fi

require_root
install_missing strace valgrind linux-perf
build_targets
mkdir -p "$profile_dir"
make_data_dir
(enter_namespace "$@") || { echo "bench/profile.sh: profiling failed" >&2; exit 1; }
head -n 50 "$profile_dir"/syscalls.txt "$profile_dir"/dlopen.txt
echo "bench/profile.sh: profiles in $profile_dir"
