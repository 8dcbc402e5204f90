# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
# check.sh: named assertions for the shell test drivers; finish prints "N passed, M failed".
#
#   check "state file is root 0600" test "$(stat -c %U:%a "$file")" = root:600
#   check_output "wrong code is refused" "That code is not correct." "$transcript"
#   check_order "prompts in order" "$transcript" "Password: " "Verification code: "
#   finish
#
# A failing check prints what it ran (and, for check_output, the text searched) and the
# driver goes on, so one run reports every broken behaviour.

CHECK_PASSED=0
CHECK_FAILED=0

# capture COMMAND...: runs COMMAND; sets out (its stdout), err (its stderr) and rc.
capture() {
    local stderr
    stderr=$(mktemp)
    out=$("$@" 2>"$stderr")
    rc=$?
    err=$(cat "$stderr")
    rm -f "$stderr"
}

check() {
    local name=$1
    shift
    if "$@"; then
        CHECK_PASSED=$((CHECK_PASSED + 1))
        echo "ok - $name"
    else
        CHECK_FAILED=$((CHECK_FAILED + 1))
        echo "FAIL - $name"
        echo "    command: $*"
    fi
}

# check_output NAME NEEDLE HAYSTACK: HAYSTACK contains the fixed string NEEDLE.
check_output() {
    local name=$1 needle=$2 haystack=$3
    if grep -qF -- "$needle" <<<"$haystack"; then
        CHECK_PASSED=$((CHECK_PASSED + 1))
        echo "ok - $name"
    else
        CHECK_FAILED=$((CHECK_FAILED + 1))
        echo "FAIL - $name"
        echo "    expected to find: $needle"
        sed 's/^/    | /' <<<"$haystack"
    fi
}

# check_no_output NAME NEEDLE HAYSTACK: HAYSTACK does not contain NEEDLE.
check_no_output() {
    local name=$1 needle=$2 haystack=$3
    if ! grep -qF -- "$needle" <<<"$haystack"; then
        CHECK_PASSED=$((CHECK_PASSED + 1))
        echo "ok - $name"
    else
        CHECK_FAILED=$((CHECK_FAILED + 1))
        echo "FAIL - $name"
        echo "    did not expect: $needle"
        sed 's/^/    | /' <<<"$haystack"
    fi
}

finish() {
    echo "$CHECK_PASSED passed, $CHECK_FAILED failed"
    if [ "$CHECK_FAILED" -ne 0 ] || [ "$CHECK_PASSED" -eq 0 ]; then
        exit 1
    fi
    exit 0
}

# check_order NAME HAYSTACK NEEDLE...: every NEEDLE occurs in HAYSTACK, each after the one
# before it.
check_order() {
    local name=$1 haystack=$2 rest needle
    shift 2
    rest=$haystack
    for needle in "$@"; do
        if [[ $rest != *"$needle"* ]]; then
            CHECK_FAILED=$((CHECK_FAILED + 1))
            echo "FAIL - $name"
            echo "    expected, in this order: $*"
            echo "    missing or out of order: $needle"
            sed 's/^/    | /' <<<"$haystack"
            return
        fi
        rest=${rest#*"$needle"}
    done
    CHECK_PASSED=$((CHECK_PASSED + 1))
    echo "ok - $name"
}
