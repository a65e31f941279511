#!/usr/bin/env bash
# Bulk screening over HTTP: starts `BIN serve` on SNAPSHOT (bench-server.sh)
# and posts ROWS_CSV (name,code columns) to /v1/screen/bulk twice, printing
# the HTTP status, the wall time and the rows a second of each request.
# usage: scripts/bulk-http.sh BIN SNAPSHOT ROWS_CSV
#   BENCH_TOML passes settings, e.g. BENCH_TOML='snapshot_residence = "memory"'
set -euo pipefail
bin=$1; snap=$2; rows=$3
. "$(dirname "$0")/bench-server.sh"
bench_server "$bin" "$snap" 18394
n=$(($(wc -l < "$rows") - 1))
for _ in 1 2; do
    curl -s -o "$d/out.csv" -w "%{http_code} %{time_total}\n" --data-binary @"$rows" \
        -H 'Content-Type: text/csv' -H 'X-API-Key: bench-screen-key-0001' \
        'http://127.0.0.1:18394/v1/screen/bulk?scenario=bidding' |
        awk -v n="$n" '{ printf "HTTP %s, %.2f s, %.0f rows/s\n", $1, $2, n / $2 }'
done
