# Sourced by the benchmark scripts (reload-under-load.sh, go-live.sh):
#   bench_server BIN SNAPSHOT PORT [SERVE ARGS...]
# starts `BIN serve` on a throwaway data directory "$d" (removed at exit,
# after the server has stopped) whose inbox "$d/snapshots" holds SNAPSHOT,
# with two keys: bench-screen-key-0001 (screen, no rate limit) and
# bench-admin-key-0001 (admin); waits until /readyz answers. Sets d and pid.
# BENCH_TOML: more top-level settings for the config, e.g.
#   BENCH_TOML='snapshot_residence = "memory"'.
bench_server() {
    local bin=$1 snap=$2 port=$3
    shift 3
    d=$(mktemp -d /tmp/bench-srv-XXXXXX)
    trap 'kill "${pid:-}" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$d"' EXIT
    mkdir -p "$d/snapshots"
    ln -f "$snap" "$d/snapshots/"
    local screen admin
    screen=$("$bin" hash-key bench-screen-key-0001 | sed -n 's/sha256 = "\(.*\)"/\1/p')
    admin=$("$bin" hash-key bench-admin-key-0001 | sed -n 's/sha256 = "\(.*\)"/\1/p')
    cat > "$d/bench.toml" <<EOT
listen = "127.0.0.1:$port"
data_dir = "$d"
snapshot_dir = "$d/snapshots"
demo_entries = 0
${BENCH_TOML:-}
[[keys]]
name = "bench-portal"
sha256 = "$screen"
roles = ["screen"]
rate_per_second = 1000000
burst = 1000000
[[keys]]
name = "bench-admin"
sha256 = "$admin"
roles = ["admin"]
EOT
    RUST_LOG=warn "$bin" serve --config "$d/bench.toml" "$@" > "$d/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 240); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$d/server.log" >&2; return 1; }
        sleep 0.5
    done
    echo "the server on port $port did not get ready in 120 s" >&2
    return 1
}
