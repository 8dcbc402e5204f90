#!/bin/bash
# README command 2 (and what .ci/run runs): install what is missing, build, and run every
# test twice: in the normal hardened build and in an AddressSanitizer + UBSan build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
if [ "$(id -u)" -ne 0 ]; then
    echo "test: the tests create root-owned state files and must run as root (use sudo)" >&2
    exit 1
fi
# System tests run in private mount namespaces; here they must run, never skip.
export SANDBOX_REQUIRED=1
status=0
scripts/build.sh build
(cd build && ctest --output-on-failure -j"$(nproc)") || status=1
scripts/build.sh build-asan -DTOTP_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
(cd build-asan && ctest --output-on-failure -j"$(nproc)") || status=1
if [ $status -eq 0 ]; then echo "test: all suites passed (hardened and ASan+UBSan builds)"; fi
exit $status
