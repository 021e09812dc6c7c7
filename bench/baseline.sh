# Sourced by the benchmarks that compare this tree with an earlier commit, both release builds
# on the same PostgreSQL in the same run. Needs `admin_url` and `token` set by the caller.

servers=()
trap 'kill "${servers[@]}" 2>/dev/null || true' EXIT

# Builds commit $1 once into target/bench-baseline-$1 (from `git archive`); prints the binary.
build_baseline() {
  local rev=$1 dir="target/bench-baseline-$1"
  if [ ! -x "$dir/release/kubernaut-server" ]; then
    rm -rf "$dir/src"
    mkdir -p "$dir/src"
    git archive "$rev" | tar -x -C "$dir/src"
    (cd "$dir/src" && cargo build --release -q -p kubernaut-server --target-dir ..)
  fi
  echo "$dir"
}

# Starts the build in $1 (a source tree, whose config/default.toml it reads) on port $2 with a
# fresh database $3, the binary $4, and the environment $5 (default: the bootstrap admin token
# set to $token; a build from before authentication refuses that setting).
start() {
  local tree=$1 port=$2 db_name=$3 env=${5-KUBERNAUT__AUTH__BOOTSTRAP_TOKEN=$token}
  local db_url="${admin_url%/*}/$db_name"
  local binary
  binary=$(realpath "$4")
  psql "$admin_url" -qc "DROP DATABASE IF EXISTS $db_name WITH (FORCE)" -c "CREATE DATABASE $db_name"
  (cd "$tree" && exec env $env RUST_LOG=warn \
    "$binary" --listen "127.0.0.1:$port" --database-url "$db_url" >/dev/null) &
  servers+=($!)
  for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
}

# The RSS of every server started, in MiB.
report_rss() {
  for pid in "${servers[@]}"; do
    echo "server $pid RSS: $(( $(ps -o rss= -p "$pid") / 1024 )) MiB"
  done
}
