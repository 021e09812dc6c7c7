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
# The baseline (KUBERNAUT_BENCH_BASELINE, default 62ce20d) is built once into
# target/bench-baseline from `git archive`.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
rounds="${2:-3}"
baseline="${KUBERNAUT_BENCH_BASELINE:-62ce20d}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
token=knt_bench-admin-0123456789abcdef0123456789abcdef

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p kubernaut-server
baseline_dir=target/bench-baseline
if [ "$(cat "$baseline_dir/rev" 2>/dev/null)" != "$baseline" ]; then
  rm -rf "$baseline_dir/src"
  mkdir -p "$baseline_dir/src"
  git archive "$baseline" | tar -x -C "$baseline_dir/src"
  (cd "$baseline_dir/src" && cargo build --release -q -p kubernaut-server --target-dir ..)
  echo "$baseline" > "$baseline_dir/rev"
fi

template='apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n'
servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true' EXIT

# Starts the build in $1 (a source tree, whose config/default.toml it reads) on port $2 with a
# fresh database $3, with the environment in $4, the binary $5.
start() {
  local tree=$1 port=$2 db_name=$3 env=$4
  local db_url="${admin_url%/*}/$db_name"
  local binary
  binary=$(realpath "$5")
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"
  (cd "$tree" && exec env $env RUST_LOG=warn \
    "$binary" --listen "127.0.0.1:$port" --database-url "$db_url" >/dev/null) &
  servers+=($!)
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
}

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

start "$baseline_dir/src" 18090 kubernaut_bench_auth_before "" \
  "$baseline_dir/release/kubernaut-server"
start . 18091 kubernaut_bench_auth_after "KUBERNAUT__AUTH__BOOTSTRAP_TOKEN=$token" \
  target/release/kubernaut-server
baseline_url=$(release_url 18090)
current_url=$(release_url 18091)
# The baseline ignores the token; the current build authenticates each request with it.
echo "== GET /api/releases/{id}, 8 connections, ${duration}s each, baseline $baseline vs this tree"
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  measure "before" "$baseline_url" kubernaut_bench_auth_before
  measure "with auth" "$current_url" kubernaut_bench_auth_after
done
for pid in "${servers[@]}"; do
  echo "server $pid RSS: $(( $(ps -o rss= -p "$pid") / 1024 )) MiB"
done
