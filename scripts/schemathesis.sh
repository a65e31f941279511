#!/usr/bin/env bash
# Runs schemathesis (PyPI) against a live `credgate serve` and its own
# /openapi.json: property-based requests to every endpoint; fails on any
# server error (5xx) or any response that does not match the schema.
#
#   scripts/schemathesis.sh [path/to/credgate]    (default target/debug/credgate)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/debug/credgate}
SCHEMATHESIS_VERSION=4.32.5
VENV=target/schemathesis-venv
if [ ! -x "$VENV/bin/schemathesis" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

DATA=$(mktemp -d)
LOG="$DATA/serve.log"
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT
"$BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" --demo-entries 3000 >"$LOG" 2>&1 &
PID=$!
for _ in $(seq 1 120); do
    grep -q "credgate listening on" "$LOG" && break
    kill -0 "$PID" 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 0.5
done
BASE=$(grep -o "credgate listening on http://[0-9.:]*" "$LOG" | awk '{print $4}')
KEY=$(cat "$DATA/demo-api-key.txt")
echo "schemathesis against $BASE"
"$VENV/bin/schemathesis" run "$BASE/openapi.json" \
    --header "X-API-Key: $KEY" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --max-examples "${SCHEMATHESIS_EXAMPLES:-60}" \
    --seed 1
if grep -q "handler panicked" "$LOG"; then
    echo "the server logged a panic:"; grep "handler panicked" "$LOG"; exit 1
fi
