#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets of a TOTP_FUZZ build (see tests/README.md, "Hardening").
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS [TARGET...]   fuzz each target for SECONDS, all cores
#   tests/fuzz/run.sh --merge BUILD_DIR [TARGET...]    fold new inputs into the checked-in corpora
#
# Each target starts from its checked-in seeds (tests/fuzz/corpus/<target>) plus what earlier
# runs in BUILD_DIR found (BUILD_DIR/fuzz-corpus/<target>). A crash, leak, timeout or broken
# property stops that target; its input is kept as BUILD_DIR/fuzz-artifacts/<target>-crash-*
# and the script exits 1 after printing how to replay it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
merge=0
if [ "${1:-}" = --merge ]; then merge=1; shift; fi
build=$(cd "$1" && pwd)
shift
if [ $merge -eq 0 ]; then seconds=$1; shift; fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for dir in "$here"/corpus/*/; do targets+=("$(basename "$dir")"); done
fi
bin="$build/tests/fuzz"
mkdir -p "$build/fuzz-corpus" "$build/fuzz-artifacts" "$build/fuzz-logs"

if [ $merge -eq 1 ]; then
    for target in "${targets[@]}"; do
        "$bin/$target" -merge=1 "$here/corpus/$target" "$build/fuzz-corpus/$target" \
            > "$build/fuzz-logs/$target.merge.log" 2>&1
        echo "fuzz: $target: $(ls "$here/corpus/$target" | wc -l) inputs in tests/fuzz/corpus/$target"
    done
    exit 0
fi

run_one() {
    local target=$1 seconds=$2 here=$3 build=$4
    local work="$build/fuzz-corpus/$target"
    mkdir -p "$work"
    local options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=8192
                   -print_final_stats=1 -artifact_prefix="$build/fuzz-artifacts/$target-")
    if [ -f "$here/dict/$target.dict" ]; then options+=(-dict="$here/dict/$target.dict"); fi
    if "$build/tests/fuzz/$target" "${options[@]}" "$work" "$here/corpus/$target" \
        > "$build/fuzz-logs/$target.log" 2>&1; then
        echo "fuzz: $target: ok ($(grep -o 'stat::number_of_executed_units: *[0-9]*' \
            "$build/fuzz-logs/$target.log" | grep -o '[0-9]*$') runs in ${seconds}s)"
    else
        echo "fuzz: $target: FAILED, log: $build/fuzz-logs/$target.log"
        grep -E 'property violated|ERROR: |SUMMARY' "$build/fuzz-logs/$target.log" | head -5 | sed 's/^/    /'
        for artifact in "$build/fuzz-artifacts/$target-"*; do
            [ -e "$artifact" ] && echo "    replay: $build/tests/fuzz/$target $artifact"
        done
        return 1
    fi
}
export -f run_one

rm -f "$build/fuzz-artifacts/"*
printf '%s\n' "${targets[@]}" |
    xargs -P "$(nproc)" -I{} bash -c 'run_one "$@"' _ {} "$seconds" "$here" "$build"
