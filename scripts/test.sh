#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Quick-start command 2 (and what .ci/run runs): install everything, build, and run every
# test twice: in the normal hardened build and in an AddressSanitizer + UBSan build; then
# the hardening checks (valgrind, clang-tidy + cppcheck, bounded fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
timings=()
# cpu_ticks: the machine's busy and idle CPU ticks so far (every core, /proc/stat).
cpu_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6}' /proc/stat; }
# phase NAME COMMAND...: runs one step, notes how long it took and how busy the cores were
# meanwhile (what is left idle is room for work beside it), returns its status.
phase() {
    local name=$1 started=$SECONDS rc=0 busy0 idle0 busy1 idle1
    shift
    read -r busy0 idle0 < <(cpu_ticks)
    "$@" || rc=$?
    read -r busy1 idle1 < <(cpu_ticks)
    timings+=("$(printf '%-16s %4d s, cores %3d%% busy' "$name" $((SECONDS - started)) \
        $((100 * (busy1 - busy0) / (busy1 - busy0 + idle1 - idle0 + 1))))")
    return $rc
}
phase install-deps scripts/install-deps.sh
if [ "$(id -u)" -ne 0 ]; then
    echo "test: the tests create root-owned state files and must run as root (use sudo)" >&2
    exit 1
fi
# System tests run in private mount namespaces; here they must run, never skip.
export SANDBOX_REQUIRED=1
status=0
# One style everywhere: the tree must follow .clang-format.
phase format scripts/format-check.sh || status=1
# Line tables are all the tests, valgrind and a crash report need; full debug info made the
# build a third slower. (The packages are built with their distributions' own flags, less
# -g in the packaging tests: tests/README.md, "Packages".)
phase build scripts/build.sh build -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG"

# Beside the suites, on CPU time they leave idle: they wait a good deal for sandboxes,
# deadlines, PAM's delay after a failure and package installs. SCHED_IDLE, so this work
# never takes a core from a test (timing checks stay honest). One step after another, in
# the order they are needed: the sanitizer build (for the second suite), the fuzz build
# (for fuzzing), the static analysis (read at the end). Each step leaves its log, exit
# status and time in build/beside/.
beside=build/beside
rm -rf "$beside"
mkdir -p "$beside"
beside_step() {
    local name=$1 started=$SECONDS rc=0
    shift
    chrt --idle 0 "$@" >"$beside/$name.log" 2>&1 || rc=$?
    echo "$((SECONDS - started))" >"$beside/$name.seconds"
    # Renamed into place: await never reads a status half written.
    echo "$rc" >"$beside/$name.status.new" && mv "$beside/$name.status.new" "$beside/$name.status"
}
(
    # The sanitizer build needs no benchmark: its timings would mean nothing. Both builds
    # keep line tables only, which is what a sanitizer's or fuzzer's report prints, and
    # precompile the standard headers (CMakeLists.txt, TOTP_PRECOMPILE_HEADERS).
    beside_step build-asan scripts/build.sh build-asan -DTOTP_SANITIZE=ON \
        -DCMAKE_BUILD_TYPE=Debug -DTOTP_BUILD_BENCH=OFF -DTOTP_PRECOMPILE_HEADERS=ON \
        -DCMAKE_C_FLAGS_DEBUG="-O0 -g1" -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1"
    beside_step build-fuzz bash -c 'mkdir -p build-fuzz &&
        CC=clang CXX=clang++ cmake -S . -B build-fuzz -DTOTP_FUZZ=ON -DTOTP_WERROR=ON \
            -DTOTP_PRECOMPILE_HEADERS=ON -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
            -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >build-fuzz/configure.log &&
        cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets'
    # clang-tidy over the code that is installed (module, setuid tools, service, database
    # backend) and cppcheck over all (tests/README.md, "Hardening").
    beside_step static-analysis scripts/static-analysis.sh build core/src/*.cpp \
        pam_module/*.cpp enroll_tool/*.cpp reset_service/*.cpp store_pg/*.cpp \
        verify_helper/*.cpp
) &
beside_chain=$!
# await NAME: waits for a step beside the suites; returns its exit status.
await() {
    local name=$1
    while [ ! -f "$beside/$name.status" ]; do
        kill -0 "$beside_chain" 2>/dev/null || { echo "test: $name never finished" >&2; return 1; }
        sleep 1
    done
    timings+=("$(printf '%-16s %4d s, beside the suites' "$name" "$(cat "$beside/$name.seconds")")")
    return "$(cat "$beside/$name.status")"
}

# One "cores" slot per core: a test takes as many as its PROCESSORS; the few that mostly
# wait take none and run beside (tests/CMakeLists.txt, TOTP_MOSTLY_WAITING_TESTS), so ctest
# may start more tests than there are cores.
cores=build/beside/cores.json
# (At least two: the package builds take two, PROCESSORS 2, and run alone on one core.)
printf '{"version": {"major": 1, "minor": 0}, "local": [{"cores": [{"id": "all", "slots": %d}]}]}\n' \
    "$(($(nproc) < 2 ? 2 : $(nproc)))" >"$cores"
suite() {
    ctest --test-dir "$1" --output-on-failure --resource-spec-file "$PWD/$cores" -j"$(($(nproc) + 4))"
}
phase tests suite build || status=1
if await build-asan; then
    phase tests-asan suite build-asan || status=1
else
    tail -n 40 "$beside/build-asan.log"
    echo "test: the sanitizer build failed ($beside/build-asan.log)"
    status=1
fi
# Hardening (tests/README.md, "Hardening"): valgrind over the PAM-level tests; every fuzz
# target in a clang ASan+UBSan+libFuzzer build for TOTP_FUZZ_SECONDS each (default 10: a
# smoke run; tests/README.md says how to run long).
phase valgrind tests/hardening/valgrind.sh build || status=1
if await build-fuzz; then
    phase fuzz tests/fuzz/run.sh build-fuzz "${TOTP_FUZZ_SECONDS:-10}" || status=1
else
    tail -n 40 "$beside/build-fuzz.log"
    echo "test: the fuzz build failed ($beside/build-fuzz.log)"
    status=1
fi
analysis_status=0
await static-analysis || analysis_status=$?
cat "$beside/static-analysis.log"
[ "$analysis_status" -eq 0 ] || status=1
wait "$beside_chain" || true
echo "test: time per step:"
printf '    %s\n' "${timings[@]}"
if [ $status -eq 0 ]; then
    echo "test: all suites passed (hardened and ASan+UBSan builds, valgrind, static analysis, fuzzing)"
fi
exit $status
