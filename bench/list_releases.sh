#!/usr/bin/env bash
# Benchmark: GET /api/releases?limit=50, unfiltered and filtered by service, with 10,000 and
# with 1,000,000 releases stored (PostgreSQL, release build), at concurrency 4.
# DESIGN.md budget: p99 <= 10 ms at 1,000,000, at most 1.5x the latency at 10,000.
# Each server starts with a fixed bootstrap admin token, which every request sends.
#
#   bench/list_releases.sh [SECONDS]   (default 10 s per measurement)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run) and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-10}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
listen=127.0.0.1:18083
# The bootstrap admin token of each fresh database: not a secret, the servers are local and brief.
token=knt_bench-admin-0123456789abcdef0123456789abcdef

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release -q -p kubernaut-server

# Fills a fresh database with $1 releases: 1,000 services, each release with 3 attributes, all
# sharing one template, created one second apart.
fill() {
  local db_url=$1 releases=$2
  psql "$db_url" -q -v ON_ERROR_STOP=1 <<SQL
INSERT INTO templates (id, checksum, source, created_on)
  VALUES ('00000000-0000-7000-8000-000000000000', repeat('0', 64),
          'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{service}}\n', now());
INSERT INTO services (id, name, namespace, created_on, active_releases)
  SELECT md5('s' || s)::uuid::text, 'service-' || s, 'default', now(), $releases / 1000
  FROM generate_series(1, 1000) s;
INSERT INTO releases (id, service_id, version, template_id, created_on, created_by)
  SELECT md5('r' || r)::uuid::text, md5('s' || (r % 1000 + 1))::uuid::text, r::text,
         '00000000-0000-7000-8000-000000000000',
         timestamp '2026-01-01' + r * interval '1 second', 'bench'
  FROM generate_series(1, $releases) r;
INSERT INTO release_attributes (release_id, name, value)
  SELECT md5('r' || r)::uuid::text, a, a || '-' || r
  FROM generate_series(1, $releases) r, unnest(array['commit', 'image', 'team']) a;
ANALYZE services, templates, releases, release_attributes;
SQL
}

for releases in 10000 1000000; do
  db_name="kubernaut_bench_list_$releases"
  db_url="${admin_url%/*}/$db_name"
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"
  RUST_LOG=warn KUBERNAUT__AUTH__BOOTSTRAP_TOKEN="$token" \
    target/release/kubernaut-server --listen "$listen" --database-url "$db_url" &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do curl -sf "http://$listen/readyz" >/dev/null && break; sleep 0.1; done
  fill "$db_url" "$releases"
  for query in "limit=50" "limit=50&service=service-7"; do
    count=$(curl -sf "http://$listen/api/releases?$query" -H "Authorization: Bearer $token" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')
    echo "== $releases releases, GET /api/releases?$query (count $count), 4 connections, ${duration}s"
    wrk -t 2 -c 4 -d "${duration}s" --latency -H "Authorization: Bearer $token" \
      "http://$listen/api/releases?$query" \
      | grep -E "Requests/sec|^ +(50|90|99)%|Non-2xx|Socket errors"
  done
  echo "server RSS: $(( $(ps -o rss= -p "$server") / 1024 )) MiB"
  kill "$server"; wait "$server" 2>/dev/null || true
done
