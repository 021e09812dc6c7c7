#!/usr/bin/env bash
# Benchmark: what authentication costs on GET /api/releases/{id}. The release build of this
# tree (every request authenticated, its token resolved from the cache) runs beside the release
# build of BASELINE, the last commit before authentication existed, on the same PostgreSQL, in
# the same run, alternating, at 8 connections. For each it prints the rate, the latency and the
# database transactions per 1,000 requests (from pg_stat_database).
# DESIGN.md budget: authentication and authorization add at most 10% to this endpoint's
# throughput, and nothing per request to the database beyond the cached lookup.
#
#   bench/auth.sh [SECONDS] [ROUNDS]   (default 10 s per measurement, 3 rounds)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run) and wrk.
# The baseline (KUBERNAUT_BENCH_BASELINE, default 62ce20d) is built once into target/.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
rounds="${2:-3}"
baseline="${KUBERNAUT_BENCH_BASELINE:-62ce20d}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
token=knt_bench-admin-0123456789abcdef0123456789abcdef

source bench/baseline.sh

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p kubernaut-server
baseline_dir=$(build_baseline "$baseline")

template='apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n'

# Creates one release on the server at port $1; prints its URL.
release_url() {
  curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"service\": \"bench\", \"version\": \"1\", \"template\": \"$template\", \"attributes\": {\"image\": \"bench:1\"}}" \
    "http://127.0.0.1:$1/api/releases" \
    | python3 -c "import json,sys; print('http://127.0.0.1:$1/api/releases/' + json.load(sys.stdin)['id'])"
}

transactions() {
  psql "$admin_url" -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$1'"
}

# Measures one server: $1 label, $2 URL, $3 database name.
measure() {
  local label=$1 url=$2 db_name=$3 before after output requests
  sleep 1  # let the statistics collector settle
  before=$(transactions "$db_name")
  output=$(wrk -t 2 -c 8 -d "${duration}s" --latency -H "Authorization: Bearer $token" "$url")
  sleep 1
  after=$(transactions "$db_name")
  requests=$(echo "$output" | awk '/requests in/ {print $1}')
  echo "$output" | grep -E "Non-2xx|Socket errors" || true
  printf '%-9s %10s req/s   p50 %8s   p99 %8s   %6.1f transactions per 1,000 requests\n' \
    "$label" "$(echo "$output" | awk '/Requests\/sec/ {print $2}')" \
    "$(echo "$output" | awk '$1 == "50%" {print $2}')" \
    "$(echo "$output" | awk '$1 == "99%" {print $2}')" \
    "$(echo "$requests $before $after" | awk '{print ($3 - $2) * 1000 / $1}')"
}

start "$baseline_dir/src" 18090 kubernaut_bench_auth_before "$baseline_dir/release/kubernaut-server" ""
start . 18091 kubernaut_bench_auth_after target/release/kubernaut-server
baseline_url=$(release_url 18090)
current_url=$(release_url 18091)
# The baseline ignores the token; the current build authenticates each request with it.
echo "== GET /api/releases/{id}, 8 connections, ${duration}s each, baseline $baseline vs this tree"
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  measure "before" "$baseline_url" kubernaut_bench_auth_before
  measure "with auth" "$current_url" kubernaut_bench_auth_after
done
report_rss
