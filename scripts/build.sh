#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# Configures and builds one build tree: scripts/build.sh DIR [extra cmake arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$1
shift
mkdir -p "$dir"
cmake -S . -B "$dir" -DTOTP_WERROR=ON "$@" > "$dir/configure.log" 2>&1 ||
    { cat "$dir/configure.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)"
