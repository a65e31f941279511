#!/usr/bin/env bash
# Screening throughput and p99 steady, then with a snapshot published every
# 10 s (issue 11's swap floor), against `credgate serve` on SNAPSHOT.
# usage: scripts/reload-under-load.sh LABEL CREDGATE SNAPSHOT QUERIES [SECONDS]
#   CREDGATE: a release `credgate` binary; QUERIES: `credgate gen-queries`
#   output. The load generator is target/release/loadtest
#   (`cargo build --release -p credgate-loadtest`). Results go to
#   /tmp/reload-LABEL-{steady,reload}.{json,txt}.
#   PUBLISH_SNAPSHOTS="a b …": the files published at the reloads, in turn
#   (default SNAPSHOT). The service swaps only to a snapshot built later
#   than the live one, so for real swaps give separate builds of the same
#   entries (`credgate build` again): a copy of SNAPSHOT is taken in and
#   verified but never swapped to.
#   PUBLISH=stage (default): before the reload run, one single-name copy of
#   SNAPSHOT per planned reload is written beside the inbox and renamed in
#   at each reload, as `credgate admin publish` does (the service takes it
#   by rename); needs disk for (40 + 2) / 10 = 4 copies. PUBLISH=link: a hard
#   link per reload, which the service must copy in (2.4 GB at 10M each).
#   PUBLISH=move: the PUBLISH_SNAPSHOTS files themselves are renamed in, one
#   per reload, so each is in the page cache as `credgate build` left it; no
#   disk for copies. They are DELETED with the service's directory at the
#   end: give one per reload, each a separate build on the same filesystem
#   as /tmp, never SNAPSHOT (refused).
set -euo pipefail
label=$1; bin=$2; snap=$3; queries=$4; dur=${5:-40}
case "${PUBLISH:-stage}" in
    stage) publish_mode=(--stage-copies) ;;
    link) publish_mode=() ;;
    move) publish_mode=(--move-published) ;;
    *) echo "PUBLISH: stage, link or move, not ${PUBLISH}" >&2; exit 2 ;;
esac
if [ "${PUBLISH:-stage}" = move ] && [ -z "${PUBLISH_SNAPSHOTS:-}" ]; then
    echo "PUBLISH=move: give PUBLISH_SNAPSHOTS (they are used up), not SNAPSHOT" >&2
    exit 2
fi
lt="$(dirname "$0")/../target/release/loadtest"
. "$(dirname "$0")/bench-server.sh"
bench_server "$bin" "$snap" 18391
run() {
    "$lt" --url http://127.0.0.1:18391 --key bench-screen-key-0001 \
        --queries "$queries" --connections 16 --duration "$dur" "$@"
}
run --json "/tmp/reload-$label-steady.json" > "/tmp/reload-$label-steady.txt" 2>&1
read -r -a publish_files <<< "${PUBLISH_SNAPSHOTS:-$snap}"
run --reload-every 10 --admin-key bench-admin-key-0001 --publish "${publish_files[@]}" \
    --snapshot-dir "$d/snapshots" "${publish_mode[@]}" --json "/tmp/reload-$label-reload.json" \
    > "/tmp/reload-$label-reload.txt" 2>&1
tail -n 3 "/tmp/reload-$label-steady.txt" "/tmp/reload-$label-reload.txt"
