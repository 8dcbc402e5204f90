#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# The demo's non-interactive mode is a real two-factor login through the built module:
# it must succeed with the right code and be refused with a wrong one.
set -uo pipefail
build=$1
demo="$(dirname "$0")/../../demo/run-demo.sh"
output=$("$demo" "$build" --auto 2>&1); rc=$?
if [ $rc -ne 0 ] || ! grep -q 'Login succeeded' <<<"$output"; then
    echo "demo --auto failed (exit $rc):"; echo "$output"; exit 1
fi
grep -q '^otpauth://totp/' <<<"$output" || { echo "demo did not print the otpauth URI"; exit 1; }
output=$("$demo" "$build" --auto --wrong-code 2>&1); rc=$?
if [ $rc -ne 1 ] || ! grep -q 'Login refused' <<<"$output"; then
    echo "demo --auto --wrong-code was not refused cleanly (exit $rc):"; echo "$output"; exit 1
fi
echo "1 passed, 0 failed: demo logs in with the right code and is refused with a wrong one"
