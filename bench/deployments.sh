#!/usr/bin/env bash
# Benchmark: the overhead of a sandbox deployment (POST /api/deployments?wait to succeeded) on
# the release build, on SQLite and on PostgreSQL, sequential and at concurrency 4. Each server
# starts with a fixed bootstrap admin token, which bench/deployments.py sends.
#
#   bench/deployments.sh [COUNT]       (default 200 deployments per measurement)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-200}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
db_name=kubernaut_bench_deploy
listen=127.0.0.1:18081
workdir=$(mktemp -d)
# The bootstrap admin token of each fresh database: not a secret, the servers are local and brief.
token=knt_bench-admin-0123456789abcdef0123456789abcdef

cargo build --release -q -p kubernaut-server
psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"

for db_url in "sqlite://$workdir/bench.db" "${admin_url%/*}/$db_name"; do
  RUST_LOG=warn KUBERNAUT__AUTH__BOOTSTRAP_TOKEN="$token" \
    target/release/kubernaut-server --sandbox --listen "$listen" --database-url "$db_url" &
  server=$!
  trap 'kill $server 2>/dev/null || true; rm -rf "$workdir"' EXIT
  for _ in $(seq 1 50); do curl -sf "http://$listen/readyz" >/dev/null && break; sleep 0.1; done
  echo "== ${db_url%%:*}"
  KUBERNAUT_TOKEN="$token" python3 bench/deployments.py "http://$listen" "$count" 1
  KUBERNAUT_TOKEN="$token" python3 bench/deployments.py "http://$listen" "$count" 4
  echo "server RSS: $(( $(ps -o rss= -p "$server") / 1024 )) MiB"
  kill "$server"
  wait "$server" 2>/dev/null || true
done
