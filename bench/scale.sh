#!/usr/bin/env bash
# Benchmark: deployments at scale, on PostgreSQL and SQLite.
#   1. the drain rate of 500, 2,000 and 10,000 queued deployments (bench/drain.sh);
#   2. Kubernetes API requests per deployment with 1, 10 and 100 rollouts at once, an idle
#      lane's latency and the server's memory with 1,000 slow rollouts in progress
#      (tests/benches/scale.rs).
#
#   bench/scale.sh
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL for the drain, KUBERNAUT_TEST_DATABASE_URL for
# the rest; both default to the test URL of .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

url=postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres
KUBERNAUT_BENCH_DATABASE_URL="${KUBERNAUT_BENCH_DATABASE_URL:-$url}" bench/drain.sh
KUBERNAUT_TEST_DATABASE_URL="${KUBERNAUT_TEST_DATABASE_URL:-$url}" \
  cargo bench -q -p kubernaut-tests --bench scale
