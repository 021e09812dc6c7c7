#!/usr/bin/env bash
# Benchmark: what metrics and request ids cost on POST /api/releases. The release build of this
# tree runs beside the release build of BASELINE, the last commit before them, on the same
# PostgreSQL, in the same run, alternating, at concurrency 16 (bench/post_release.lua).
#
#   bench/metrics.sh [SECONDS] [ROUNDS]   (default 10 s per measurement, 3 rounds)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run) and wrk. The
# baseline (KUBERNAUT_BENCH_BASELINE, default c982864) is built once into target/.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
rounds="${2:-3}"
baseline="${KUBERNAUT_BENCH_BASELINE:-c982864}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
token=knt_bench-admin-0123456789abcdef0123456789abcdef
source bench/baseline.sh

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p kubernaut-server
baseline_dir=$(build_baseline "$baseline")
start "$baseline_dir/src" 18092 kubernaut_bench_metrics_before "$baseline_dir/release/kubernaut-server"
start . 18093 kubernaut_bench_metrics_after target/release/kubernaut-server

# Measures one server: $1 label, $2 port.
measure() {
  local output
  output=$(KUBERNAUT_TOKEN=$token wrk -t 4 -c 16 -d "${duration}s" --latency \
    -s bench/post_release.lua "http://127.0.0.1:$2/api/releases")
  echo "$output" | grep -E "Non-2xx|Socket errors|unexpected" || true
  printf '%-13s %10s req/s   p50 %8s   p99 %8s\n' "$1" \
    "$(echo "$output" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$output" | awk '$1 == "50%" {print $2}')" \
    "$(echo "$output" | awk '$1 == "99%" {print $2}')"
}

echo "== POST /api/releases, 16 connections, ${duration}s each, baseline $baseline vs this tree"
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  measure "before" 18092
  measure "with metrics" 18093
done
curl -sf "http://127.0.0.1:18093/metrics" | grep -E '^kubernaut_http_requests_total\{method="POST"'
report_rss
