#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# valgrind memcheck over the PAM-level tests (the module through real libpam, pam_wrapper
# and nss_wrapper) and the hardening tests that log in thousands of times with failures
# injected: any invalid access or definitely/indirectly lost block fails. The module lives
# inside long-running sshd, so a leak per login is a bug.
#
#   tests/hardening/valgrind.sh BUILD_DIR      (a build without sanitizers)
#
# Each test runs with the command and environment ctest would use (read from
# `ctest --show-only=json-v1`), with valgrind between the test's wrapper and its binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
logs="$build/valgrind"
mkdir -p "$logs"
rm -f "$logs"/*.log

valgrind_options=(--quiet --error-exitcode=99 --leak-check=full
                  --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect
                  --keep-debuginfo=yes --num-callers=40 --child-silent-after-fork=yes
                  --suppressions="$here/valgrind.supp")

# name<TAB>command...<TAB>env... for every test worth running under valgrind.
# A command substitution, not a process substitution: a failing ctest or python stops here.
listing=$(cd "$build" && ctest --show-only=json-v1 2>/dev/null | python3 -c '
import json, sys
wanted = ("pam.test_", "hardening.test_fault_sweep", "hardening.test_fs_attacks",
          "hardening.test_helper_client")
# The concurrency test forks children that log in once and leave through _exit (their
# memory is never freed, on purpose); its logins are the ones test_pam_login makes.
unwanted = ("pam.test_pam_concurrency",)
for test in json.load(sys.stdin)["tests"]:
    if not test["name"].startswith(wanted) or test["name"] in unwanted:
        continue
    env = []
    for prop in test.get("properties", []):
        if prop["name"] == "ENVIRONMENT":
            env = prop["value"]
    print("\t".join([test["name"], "\x1f".join(test["command"]), "\x1f".join(env)]))
')
[ -n "$listing" ] || { echo "valgrind: no tests found in $build" >&2; exit 2; }
mapfile -t tests <<<"$listing"

# run_one LINE: one test under valgrind; its report comes out in one piece.
run_one() {
    local name command environment argv env last run start report rc=0
    IFS=$'\t' read -r name command environment <<< "$1"
    IFS=$'\x1f' read -r -a argv <<< "$command"
    IFS=$'\x1f' read -r -a env <<< "$environment"
    # A wrapper script (private /tmp) stays in front; valgrind goes right before the binary.
    last=$((${#argv[@]} - 1))
    run=("${argv[@]:0:last}" valgrind "${valgrind_options[@]}" --log-file="$logs/$name.%p.log"
         "${argv[last]}")
    start=$SECONDS
    if (cd "$build" && env "${env[@]}" "${run[@]}" > "$logs/$name.out" 2>&1); then
        report="valgrind: $name: clean ($((SECONDS - start)) s)"
    else
        report="valgrind: $name: FAILED ($((SECONDS - start)) s), see $logs/$name.*
$(cat "$logs/$name".*.log 2>/dev/null | head -60)
$(tail -20 "$logs/$name.out")"
        rc=1
    fi
    echo "$report"
    return $rc
}

# The tests are independent (ctest runs them side by side too): one per core.
status=0
running=0
for line in "${tests[@]}"; do
    if [ $running -ge "$(nproc)" ]; then
        wait -n || status=1
        running=$((running - 1))
    fi
    run_one "$line" &
    running=$((running + 1))
done
while [ $running -gt 0 ]; do
    wait -n || status=1
    running=$((running - 1))
done
exit $status
