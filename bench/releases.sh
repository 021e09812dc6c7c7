#!/usr/bin/env bash
# Benchmark: POST /api/releases on PostgreSQL at concurrency 16, side by side with pgbench
# running the same SQL transaction (bench/release.sql) against the same server in the same run.
# The server starts with a fixed bootstrap admin token, which every request sends.
#
#   bench/releases.sh [SECONDS]        (default 20 s per measurement)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run: a role that
# may create databases), wrk and pgbench (installed from Debian if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

duration="${1:-20}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
db_name=kubernaut_bench
db_url="${admin_url%/*}/$db_name"
listen=127.0.0.1:18080
concurrency=16
# The bootstrap admin token of the fresh database: not a secret, the server is local and brief.
token=knt_bench-admin-0123456789abcdef0123456789abcdef

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || { apt-get update -qq && apt-get install -y -qq postgresql-client >/dev/null; }

cargo build --release -q -p kubernaut-server

psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"

RUST_LOG=warn KUBERNAUT__AUTH__BOOTSTRAP_TOKEN="$token" \
  target/release/kubernaut-server --listen "$listen" --database-url "$db_url" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "http://$listen/readyz" >/dev/null && break; sleep 0.1; done

# One release each for the wrk and pgbench services, so both runs find service and template.
template=$(sed -n '/^local template = \[\[/,/^\]\]/p' bench/post_release.lua | sed '1d;$d')
for service in bench-wrk bench-pgbench; do
  curl -sf "http://$listen/api/releases" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "$(python3 -c '
import json, sys
attrs = {"image": "i", "commit": "c", "replicas": "3", "port": "8080", "log_level": "info",
         "region": "r", "cpu": "1", "memory": "1Mi", "team": "t", "build_url": "u"}
print(json.dumps({"service": sys.argv[1], "version": "0", "template": sys.argv[2], "attributes": attrs}))
' "$service" "$template")" >/dev/null
done
read -r service_id template_id checksum < <(psql "$db_url" -At -F ' ' -c "
  SELECT s.id, t.id, t.checksum FROM services s JOIN releases r ON r.service_id = s.id
  JOIN templates t ON t.id = r.template_id WHERE s.name = 'bench-pgbench'")

echo "== pgbench: the same transaction, $concurrency clients, ${duration}s"
pgbench -n -M prepared -c "$concurrency" -j 2 -T "$duration" -r \
  -D service_id="$service_id" -D template_id="$template_id" -D checksum="$checksum" \
  -f bench/release.sql "$db_url" 2>&1 | grep -E "^(tps|latency|number of (transactions|failed))"

echo "== wrk: POST /api/releases, $concurrency connections, ${duration}s"
KUBERNAUT_TOKEN="$token" wrk -t 2 -c "$concurrency" -d "${duration}s" --latency \
  -s bench/post_release.lua "http://$listen" 2>&1 \
  | grep -E "Requests/sec|Latency|50%|90%|99%|Non-2xx|Socket errors|unexpected"

rss_kib=$(ps -o rss= -p "$server")
echo "== server RSS after the load: $((rss_kib / 1024)) MiB"
