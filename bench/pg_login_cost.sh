#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The per-login latency with the fleet store's database on loopback, through PgBouncer and
# over direct TLS, next to the file store (BENCHMARKS.md, "Through PgBouncer"):
# bench/pg_login_cost.sh BUILD_DIR (a configured and built tree; run as root).
set -eu
build=${1:?usage: bench/pg_login_cost.sh BUILD_DIR}
exec "$build/tests/pg/run_bench_pg_login_cost.sh"
