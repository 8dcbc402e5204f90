#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The per-login cost with the fleet store's database on loopback, next to the file store:
# bench/pg_login_cost.sh BUILD_DIR (a configured and built tree; run as root).
set -eu
build=${1:?usage: bench/pg_login_cost.sh BUILD_DIR}
exec "$build/tests/pg/run_bench_pg_login_cost.sh"
