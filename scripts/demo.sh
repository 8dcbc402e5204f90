#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# README command 1: install what is missing, build, and log in through the built module.
# Interactive on a terminal (scan the QR code, type the password and the code);
# pass --auto to let the demo type the current code itself (exit 0 = login succeeded).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
mode=("$@")
if [ ${#mode[@]} -eq 0 ] && ! [ -t 0 ]; then
    echo "demo: no terminal on standard input, running with --auto"
    mode=(--auto)
fi
exec demo/run-demo.sh build "${mode[@]}"
