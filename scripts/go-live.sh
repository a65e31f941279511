#!/usr/bin/env bash
# How long a published snapshot takes to go live, without load: starts
# `credgate serve --role screening` on LIVE, then for each NEWER snapshot
# (separate builds, each built after the one before: the service swaps only
# to a newer build) copies it beside the inbox, renames it in (as
# `credgate admin publish` does) and times `POST /admin/v1/snapshots/reload`
# until its answer; the answer must name the file as `activated`.
# usage: scripts/go-live.sh CREDGATE LIVE NEWER [NEWER ...]
#   COPY_PIECE (default 2M): the size of the copy's writes. credgate writes
#   snapshots in 2 MiB pieces at aligned offsets, which the page cache keeps
#   as huge folios (write.rs); cp writes smaller pieces (copy_file_range),
#   which is what COPY_PIECE=64k reproduces.
set -euo pipefail
bin=$1; live=$2; shift 2
. "$(dirname "$0")/bench-server.sh"
bench_server "$bin" "$live" 18392 --role screening
mkdir -p "$d/staging"
n=0
for snap in "$@"; do
    n=$((n + 1))
    dd if="$snap" of="$d/staging/go-live-$n.snapshot" bs="${COPY_PIECE:-2M}" conv=fsync status=none
    mv "$d/staging/go-live-$n.snapshot" "$d/snapshots/"
    curl -s -o "$d/reload-$n.json" -w "reload $n: HTTP %{http_code} in %{time_total} s; " \
        -X POST -H 'X-API-Key: bench-admin-key-0001' \
        http://127.0.0.1:18392/admin/v1/snapshots/reload
    grep -o '"activated":[^,]*' "$d/reload-$n.json"
    sleep 3
done
