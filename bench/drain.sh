#!/usr/bin/env bash
# Benchmark: draining a queue of sandbox deployments (bench/drain.py), one lane each, at several
# queue depths, on PostgreSQL and SQLite, each on a fresh database; the release build of this
# tree, worker settings as shipped.
#
#   bench/drain.sh [COUNT...]   (default 500 2000 10000)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

counts=("$@")
[ $# -eq 0 ] && counts=(500 2000 10000)
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
token=knt_bench-admin-0123456789abcdef0123456789abcdef
workdir=$(mktemp -d)
listen=127.0.0.1:18096
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$workdir"' EXIT

cargo build --release -q -p kubernaut-server
for backend in postgres sqlite; do
  echo "== $backend"
  for count in "${counts[@]}"; do
    if [ "$backend" = postgres ]; then
      psql "$admin_url" -qc "DROP DATABASE IF EXISTS kubernaut_bench_drain WITH (FORCE)" \
        -c "CREATE DATABASE kubernaut_bench_drain"
      db_url="${admin_url%/*}/kubernaut_bench_drain"
    else
      rm -f "$workdir"/drain.db*
      db_url="sqlite://$workdir/drain.db"
    fi
    RUST_LOG=warn KUBERNAUT__AUTH__BOOTSTRAP_TOKEN="$token" \
      target/release/kubernaut-server --sandbox --listen "$listen" --database-url "$db_url" &
    server=$!
    for _ in $(seq 1 50); do curl -sf "http://$listen/readyz" >/dev/null && break; sleep 0.1; done
    KUBERNAUT_TOKEN="$token" python3 bench/drain.py "http://$listen" "$count"
    kill "$server"
    wait "$server" 2>/dev/null || true
  done
done
