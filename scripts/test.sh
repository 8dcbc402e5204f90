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
phase build scripts/build.sh build
# The sanitizer build compiles beside the first suite, on CPU time that suite leaves idle
# (SCHED_IDLE: it never takes a core from a test; the suite waits a good deal for sandboxes,
# deadlines, PAM's delay after a failure and package installs). The same for the static
# analysis beside the second suite and the fuzz build beside valgrind.
asan_build_started=$SECONDS
chrt --idle 0 scripts/build.sh build-asan -DTOTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    >build/build-asan.log 2>&1 &
asan_build=$!
phase tests ctest --test-dir build --output-on-failure -j"$(nproc)" || status=1
wait "$asan_build" || { tail -n 40 build/build-asan.log; echo "test: the sanitizer build failed (build/build-asan.log)"; exit 1; }
timings+=("$(printf '%-16s %4d s (beside tests)' build-asan $((SECONDS - asan_build_started)))")
# Hardening (tests/README.md, "Hardening"): clang-tidy over the code that is installed
# (module, setuid tools, service, database backend) and cppcheck over all; valgrind over
# the PAM-level tests; every fuzz target in a clang ASan+UBSan+libFuzzer build for
# TOTP_FUZZ_SECONDS each (default 10: a smoke run; tests/README.md says how to run long).
analysis_started=$SECONDS
chrt --idle 0 scripts/static-analysis.sh build core/src/*.cpp pam_module/*.cpp enroll_tool/*.cpp \
    reset_service/*.cpp store_pg/*.cpp verify_helper/*.cpp >build/static-analysis.out 2>&1 &
analysis=$!
phase tests-asan ctest --test-dir build-asan --output-on-failure -j"$(nproc)" || status=1
analysis_status=0
wait "$analysis" || analysis_status=$?
cat build/static-analysis.out
timings+=("$(printf '%-16s %4d s (beside tests-asan)' static-analysis $((SECONDS - analysis_started)))")
[ "$analysis_status" -eq 0 ] || status=1
# valgrind runs one test at a time on one core: the fuzz build takes the other.
mkdir -p build-fuzz
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DTOTP_FUZZ=ON -DTOTP_WERROR=ON \
    > build-fuzz/configure.log 2>&1 || { cat build-fuzz/configure.log; exit 1; }
fuzz_build_started=$SECONDS
chrt --idle 0 cmake --build build-fuzz -j"$(nproc)" --target fuzz_targets \
    >build-fuzz/build.log 2>&1 &
fuzz_build=$!
phase valgrind tests/hardening/valgrind.sh build || status=1
if wait "$fuzz_build"; then
    timings+=("$(printf '%-16s %4d s (beside valgrind)' build-fuzz $((SECONDS - fuzz_build_started)))")
    phase fuzz tests/fuzz/run.sh build-fuzz "${TOTP_FUZZ_SECONDS:-10}" || status=1
else
    tail -n 40 build-fuzz/build.log
    echo "test: the fuzz build failed (build-fuzz/build.log)"
    status=1
fi
echo "test: time per step:"
printf '    %s\n' "${timings[@]}"
if [ $status -eq 0 ]; then
    echo "test: all suites passed (hardened and ASan+UBSan builds, valgrind, static analysis, fuzzing)"
fi
exit $status
