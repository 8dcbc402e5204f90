#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Quick-start command 1: install what the demo needs, build, and log in through the built
# module. Interactive on a terminal (scan the QR code, type the password and the code);
# pass --auto to let the demo type the current code itself (exit 0 = login succeeded).
# Builds in build-demo without the test suite and the benchmarks, so it needs neither
# their packages nor a build tree scripts/test.sh configures differently.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh demo
scripts/build.sh build-demo -DTOTP_BUILD_TESTS=OFF -DTOTP_BUILD_BENCH=OFF
mode=("$@")
if [ ${#mode[@]} -eq 0 ] && ! [ -t 0 ]; then
    echo "demo: no terminal on standard input, running with --auto"
    mode=(--auto)
fi
exec demo/run-demo.sh build-demo "${mode[@]}"
