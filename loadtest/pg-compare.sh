#!/usr/bin/env bash
# The PostgreSQL + pg_trgm peer against `credgate serve`, on the same
# entries and the same query values, at 2 and 16 connections; prints one
# table (BENCHMARKS.md, "Issue 11: HTTP and the PostgreSQL peer").
#
#   loadtest/pg-compare.sh [--entries N] [--entries-csv FILE]
#       [--queries FILE] [--snapshot FILE] [--seconds S]
#       [--fuzzy-seconds S] [--clients "2 16"] [--keep]
#
# Everything lives in a temporary directory removed on exit (--keep
# leaves it): a throwaway cluster (initdb, private port and socket), the
# entries and queries when not given (`credgate gen --seed 42 --brands
# …`, `credgate gen-queries --count 30000 --seed 3`), the snapshot built
# from the same CSV, a screening-only server on a private port.
#
# Environment: CREDGATE, LOADTEST (binaries; default target/release of
# this checkout), PG_BIN (default the newest /usr/lib/postgresql/*/bin),
# BRANDS (default ../shared/data/brand-names.txt), BENCH_LOCK (when set,
# the timed runs together take one turn of `flock $BENCH_LOCK`, so two
# measurements on a shared machine never overlap; setup does not).
#
# What is compared, and how (the table repeats it):
# - exact codes: the `code` and `person_code` queries. PostgreSQL: a btree
#   lookup returning the whole row. credgate: POST /v1/screen with the
#   code, answered with the full explained JSON (decision, measures, hit
#   with its entry), the record of checks on (the default).
# - fuzzy names: the name-only queries of the load generator's fuzzy
#   class (typos, legal forms, regions, traditional characters …).
#   PostgreSQL: `name % q` with pg_trgm.similarity_threshold = 0.5 over a
#   GIN (gin_trgm_ops) index, ORDER BY similarity DESC LIMIT 20.
# - pgbench picks each query value from a table of the same values
#   (`WHERE code = (SELECT v FROM cq WHERE i = :i)`: one extra btree
#   probe into a small cached table, microseconds against the round
#   trip), -M prepared; the load generator cycles through them in a fixed
#   shuffle. Both closed loop, warm-up first, on the same machine.
# - transport: credgate over TCP loopback; PostgreSQL over TCP loopback
#   (the same class) and, for exact codes, also over its unix socket.
# - PostgreSQL 15 settings: fsync off, jit off (its compile time would
#   only hurt these short queries), shared_buffers 1 GB (table and
#   indexes stay cached), UTF-8 ctype (C.UTF-8: with ctype C, pg_trgm
#   drops every CJK character; the script checks show_trgm).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
entries_n=1000000
entries_csv=""
queries=""
snapshot=""
seconds=15
fuzzy_seconds=30
clients="2 16"
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --entries) entries_n=$2; shift 2 ;;
        --entries-csv) entries_csv=$2; shift 2 ;;
        --queries) queries=$2; shift 2 ;;
        --snapshot) snapshot=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --fuzzy-seconds) fuzzy_seconds=$2; shift 2 ;;
        --clients) clients=$2; shift 2 ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) echo "pg-compare: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

CREDGATE=${CREDGATE:-$here/target/release/credgate}
LOADTEST=${LOADTEST:-$here/target/release/loadtest}
BRANDS=${BRANDS:-$here/../shared/data/brand-names.txt}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
for b in "$CREDGATE" "$LOADTEST" "$PG_BIN/initdb" "$PG_BIN/pg_ctl" \
         "$PG_BIN/psql" "$PG_BIN/pgbench"; do
    [ -x "$b" ] || {
        echo "pg-compare: $b not found (cargo build --release -p credgate" \
             "-p credgate-loadtest; PostgreSQL with pg_trgm)" >&2
        exit 2
    }
done

tmp=$(mktemp -d /tmp/pg-compare.XXXXXX)
chmod 755 "$tmp"
pg_port=$((20000 + RANDOM % 10000))
cg_port=$((pg_port + 1))
server_pid=""
# initdb and postgres refuse to run as root: run them as `postgres`.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    set +e
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid"
    [ -f "$tmp/pgdata/postmaster.pid" ] &&
        as_pg "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -m immediate stop >/dev/null
    if [ "$keep" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

timed() { "$@"; }
say() { echo "pg-compare: $*" >&2; }

# --- Data: entries, queries, the two query sets ------------------------
if [ -z "$entries_csv" ]; then
    entries_csv=$tmp/entries.csv
    say "generating $entries_n entries (seed 42)"
    "$CREDGATE" gen --entries "$entries_n" --seed 42 --brands "$BRANDS" \
        --out "$entries_csv" >&2
fi
if [ -z "$queries" ]; then
    queries=$tmp/queries.csv
    say "generating 30,000 labelled queries (seed 3)"
    "$CREDGATE" gen-queries --entries "$entries_csv" --count 30000 --seed 3 \
        --out "$queries" >&2
fi
# The load generator reads query files; PostgreSQL reads the same values.
python3 - "$queries" "$tmp" <<'EOF'
import csv, sys
src, out = sys.argv[1], sys.argv[2]
# The load generator's fuzzy class (loadtest/src/workload.rs), name only.
not_fuzzy = {"code", "person_code", "name_exact", "person_name",
             "unlisted", "decoy_other_region"}
rows = list(csv.DictReader(open(src, encoding="utf-8")))
sets = {
    "codes": [r for r in rows if r["kind"] in ("code", "person_code")],
    "names": [r for r in rows if r["kind"] not in not_fuzzy
              and "+" not in r["kind"] and r["name"] and not r["code"]],
}
for name, rs in sets.items():
    assert rs, f"{src}: no {name} queries"
    with open(f"{out}/q-{name}.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=rows[0].keys())
        w.writeheader()
        w.writerows(rs)
    field = "code" if name == "codes" else "name"
    with open(f"{out}/v-{name}.tsv", "w", encoding="utf-8") as f:
        for i, r in enumerate(rs, 1):
            f.write(f"{i}\t{r[field]}\n")
    print(f"pg-compare: {len(rs)} {name} queries", file=sys.stderr)
EOF
n_codes=$(wc -l < "$tmp/v-codes.tsv")
n_names=$(wc -l < "$tmp/v-names.tsv")

# --- PostgreSQL -------------------------------------------------------
mkdir -p "$tmp/pgsock" "$tmp/pgdata"
chmod 700 "$tmp/pgdata"
[ "$(id -u)" = 0 ] && chown postgres: "$tmp/pgsock" "$tmp/pgdata"
say "initdb (C.UTF-8) and start on port $pg_port"
as_pg "$PG_BIN/initdb" -D "$tmp/pgdata" -U bench --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$tmp/initdb.log"
as_pg "$PG_BIN/pg_ctl" -D "$tmp/pgdata" -l "$tmp/pgdata/server.log" -w start -o \
    "-p $pg_port -k $tmp/pgsock -c listen_addresses=127.0.0.1 \
     -c shared_buffers=1GB -c fsync=off -c synchronous_commit=off \
     -c jit=off -c max_connections=40" >/dev/null
psql() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/pgsock" -p "$pg_port" \
        -U bench "$@"
}
psql -d postgres -c "CREATE DATABASE bench"
cols=$(head -1 "$entries_csv" | tr -d '\r' | sed 's/^\xEF\xBB\xBF//')
coldefs=$(echo "$cols" | sed 's/,/ text, /g; s/$/ text/')
say "loading $(($(wc -l < "$entries_csv") - 1)) entries, building indexes"
start=$(date +%s)
psql -d bench <<EOF
CREATE EXTENSION pg_trgm;
CREATE TABLE entries ($coldefs);
\copy entries FROM '$entries_csv' WITH (FORMAT csv, HEADER true)
CREATE TABLE cq (i int PRIMARY KEY, v text NOT NULL);
CREATE TABLE nq (i int PRIMARY KEY, v text NOT NULL);
\copy cq FROM '$tmp/v-codes.tsv'
\copy nq FROM '$tmp/v-names.tsv'
CREATE INDEX entries_code ON entries (code);
CREATE INDEX entries_name_trgm ON entries USING gin (name gin_trgm_ops);
VACUUM ANALYZE;
ALTER DATABASE bench SET pg_trgm.similarity_threshold = 0.5;
EOF
say "loaded and indexed in $(($(date +%s) - start)) s"
# The trap: with a C ctype, pg_trgm has no trigrams for CJK text.
ctype=$(psql -d bench -tA -c "SHOW lc_ctype")
trgm=$(psql -d bench -tA -c "SELECT cardinality(show_trgm('南京恒瑞'))")
if [ "${trgm:-0}" -lt 3 ]; then
    say "pg_trgm makes $trgm trigrams of 南京恒瑞 under ctype $ctype:" \
        "CJK text is dropped; the comparison would be meaningless"
    exit 1
fi

cat >"$tmp/exact.sql" <<EOF
\set i random(1, $n_codes)
SELECT e.* FROM entries e WHERE e.code = (SELECT v FROM cq WHERE i = :i);
EOF
cat >"$tmp/fuzzy.sql" <<EOF
\set i random(1, $n_names)
SELECT e.entry_id, e.list, e.name, e.code, similarity(e.name, q.v) AS s
  FROM nq q JOIN entries e ON e.name % q.v
 WHERE q.i = :i ORDER BY s DESC LIMIT 20;
EOF
say "plans (once):"
psql -d bench <<'EOF' >&2
EXPLAIN SELECT e.* FROM entries e WHERE e.code = (SELECT v FROM cq WHERE i = 1);
EXPLAIN SELECT e.entry_id, e.list, e.name, e.code, similarity(e.name, q.v) AS s
  FROM nq q JOIN entries e ON e.name % q.v WHERE q.i = 1 ORDER BY s DESC LIMIT 20;
EOF

# One pgbench run: "tps p50_ms p99_ms" from its per-transaction log.
pgbench_run() { # script host clients seconds tag
    local script=$1 host=$2 c=$3 s=$4 tag=$5 j
    j=$(( c < 2 ? c : 2 ))
    # Warm-up, not recorded.
    timed "$PG_BIN/pgbench" -n -M prepared -h "$host" -p "$pg_port" \
        -U bench -c "$c" -j "$j" -T 3 -f "$script" bench >/dev/null 2>&1
    rm -f "$tmp"/pgb-"$tag".*
    timed "$PG_BIN/pgbench" -n -M prepared -h "$host" -p "$pg_port" \
        -U bench -c "$c" -j "$j" -T "$s" -f "$script" -l \
        --log-prefix="$tmp/pgb-$tag" bench >"$tmp/pgb-$tag.out" 2>&1
    # Log lines: client, transaction, latency (µs), ...
    cat "$tmp"/pgb-"$tag".[0-9]* | python3 -c '
import sys
lat = sorted(int(l.split()[2]) for l in sys.stdin)
tps = len(lat) / float(sys.argv[1])
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] / 1000
print(f"{tps:.1f} {q(0.5):.3f} {q(0.99):.3f}")' "$s"
}

# --- credgate ---------------------------------------------------------
mkdir -p "$tmp/srv/snapshots" "$tmp/srv/accepted"
if [ -n "$snapshot" ]; then
    # Straight into the service's own directory: the inbox would copy a
    # file with other links. It is verified at start all the same.
    ln -f "$snapshot" "$tmp/srv/accepted/peer.snapshot" 2>/dev/null ||
        cp "$snapshot" "$tmp/srv/accepted/peer.snapshot"
else
    say "building the snapshot from the same CSV"
    "$CREDGATE" build --input "$entries_csv" \
        --out "$tmp/srv/snapshots/peer.snapshot" >&2
fi
key=pg-compare-screen-key-0001
sha=$("$CREDGATE" hash-key "$key" | sed -n 's/sha256 = "\(.*\)"/\1/p')
cat >"$tmp/srv/bench.toml" <<EOF
listen = "127.0.0.1:$cg_port"
data_dir = "$tmp/srv"
demo_entries = 0
[[keys]]
name = "pg-compare"
sha256 = "$sha"
roles = ["screen"]
rate_per_second = 1000000
burst = 1000000
EOF
RUST_LOG=warn "$CREDGATE" serve --config "$tmp/srv/bench.toml" \
    --role screening 2>"$tmp/serve.log" &
server_pid=$!
for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$cg_port/readyz" >/dev/null 2>&1 && break
    kill -0 "$server_pid" 2>/dev/null || {
        cat "$tmp/serve.log" >&2
        exit 1
    }
    sleep 0.5
done
curl -fs "http://127.0.0.1:$cg_port/readyz" >/dev/null || {
    say "credgate serve did not become ready"; exit 1; }

# One load generator run: "tps p50_ms p99_ms".
credgate_run() { # queries clients seconds tag
    timed "$LOADTEST" --url "http://127.0.0.1:$cg_port" --key "$key" \
        --queries "$1" --connections "$2" --duration "$3" --warmup 3 \
        --json "$tmp/lt-$4.json" >"$tmp/lt-$4.out" 2>&1
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
errors, tps, l = r["errors"], r["throughput_per_s"], r["latency"]
assert errors == 0, f"{sys.argv[1]}: {errors} errors"
p50, p99 = l["p50_us"] / 1000, l["p99_us"] / 1000
print(f"{tps:.1f} {p50:.3f} {p99:.3f}")
' "$tmp/lt-$4.json"
}

# --- Measure, then print one table -----------------------------------
# One turn of the shared lock for every timed run (about 5 minutes with
# the defaults): queueing for it once per run left the server idle for
# minutes between runs.
if [ -n "${BENCH_LOCK:-}" ]; then
    exec 9>>"$BENCH_LOCK"
    say "waiting for $BENCH_LOCK"
    flock 9
fi
rows=()
for c in $clients; do
    say "exact codes, $c connections"
    pt=$(pgbench_run "$tmp/exact.sql" 127.0.0.1 "$c" "$seconds" "exact-tcp-$c")
    pu=$(pgbench_run "$tmp/exact.sql" "$tmp/pgsock" "$c" "$seconds" \
        "exact-unix-$c")
    cg=$(credgate_run "$tmp/q-codes.csv" "$c" "$seconds" "codes-$c")
    rows+=("exact codes|$c|PostgreSQL btree, TCP|$pt|$cg")
    rows+=("exact codes|$c|PostgreSQL btree, unix socket|$pu|$cg")
    say "fuzzy names, $c connections"
    pf=$(pgbench_run "$tmp/fuzzy.sql" 127.0.0.1 "$c" "$fuzzy_seconds" \
        "fuzzy-$c")
    cf=$(credgate_run "$tmp/q-names.csv" "$c" "$seconds" "names-$c")
    rows+=("fuzzy names|$c|PostgreSQL pg_trgm % 0.5, TCP|$pf|$cf")
done
exec 9>&-

entries_count=$(($(wc -l < "$entries_csv") - 1))
echo
echo "$entries_count entries; $n_codes code and $n_names fuzzy-name" \
     "query values; PostgreSQL $("$PG_BIN/postgres" --version |
     awk '{print $3}') (ctype $ctype), credgate over TCP loopback;" \
     "${seconds} s runs (PostgreSQL fuzzy ${fuzzy_seconds} s), closed loop"
echo
echo "| queries | connections | peer | peer tps | peer p50 ms | peer p99 ms | credgate/s | credgate p50 ms | credgate p99 ms | ratio |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do
    IFS='|' read -r what c peer p c2 <<<"$r"
    read -r ptps pp50 pp99 <<<"$p"
    read -r ctps cp50 cp99 <<<"$c2"
    ratio=$(python3 -c "print(f'{$ctps / $ptps:.2f}')")
    echo "| $what | $c | $peer | $ptps | $pp50 | $pp99 | $ctps | $cp50 | $cp99 | **${ratio}×** |"
done
