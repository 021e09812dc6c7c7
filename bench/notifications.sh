#!/usr/bin/env bash
# Benchmark: what one webhook costs a sandbox deployment. Two release builds of this tree run
# side by side on fresh PostgreSQL databases, one without webhooks and one with a webhook that
# hears of every event (bench/receiver.py, answering 204); bench/deployments.py measures
# POST /api/deployments?wait to succeeded on each, alternating, in the same run.
#
#   bench/notifications.sh [COUNT] [ROUNDS]   (default 200 deployments, 3 rounds)
#
# Needs PostgreSQL (KUBERNAUT_BENCH_DATABASE_URL, default the test URL of .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

count="${1:-200}"
rounds="${2:-3}"
admin_url="${KUBERNAUT_BENCH_DATABASE_URL:-postgres://kubernaut:kubernaut@127.0.0.1:5432/postgres}"
token=knt_bench-admin-0123456789abcdef0123456789abcdef
source bench/baseline.sh

cargo build --release -q -p kubernaut-server
python3 bench/receiver.py 18099 &
receiver=$!
trap 'kill "${servers[@]}" "$receiver" 2>/dev/null || true' EXIT
webhook='[{"name":"bench","url":"http://127.0.0.1:18099/hook","secret":"bench-secret"}]'
common="KUBERNAUT__AUTH__BOOTSTRAP_TOKEN=$token KUBERNAUT__CLUSTER__SANDBOX=true"
start . 18094 kubernaut_bench_notify_none target/release/kubernaut-server "$common"
start . 18095 kubernaut_bench_notify_one target/release/kubernaut-server \
  "$common KUBERNAUT__NOTIFICATIONS__WEBHOOKS_JSON=$webhook"

echo "== sandbox deployments, $count per measurement, sequential, no webhook vs one webhook"
for round in $(seq 1 "$rounds"); do
  echo "-- round $round"
  for port in 18094 18095; do
    label=$([ "$port" = 18094 ] && echo "no webhook" || echo "one webhook")
    printf '%-12s ' "$label"
    KUBERNAUT_TOKEN="$token" python3 bench/deployments.py "http://127.0.0.1:$port" "$count" 1 | tail -1
  done
done
sleep 2
curl -sf "http://127.0.0.1:18095/metrics" | grep -E '^kubernaut_notifications'
kill "$receiver"
wait "$receiver" 2>/dev/null || true
report_rss
