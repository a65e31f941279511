#!/usr/bin/env bash
# The fuzz targets of fuzz/ (cargo-fuzz, nightly; see docs/fuzzing.md).
#
#   scripts/fuzz.sh smoke [SECONDS]       every target for SECONDS (20) on
#                                         its checked-in corpus (CI)
#   scripts/fuzz.sh run TARGET [SECONDS] [LIBFUZZER FLAGS]
#                                         one target (600 s), one process
#   scripts/fuzz.sh cmin TARGET           minimise its corpus in place
#
# A crash, a panic, a time-out or running out of memory fails the run and
# leaves the input in fuzz/artifacts/TARGET/.
set -euo pipefail
cd "$(dirname "$0")/.."
CARGO_FUZZ_VERSION=0.13.2
TARGETS=(entries bulk_csv bulk_xlsx ident names snapshot request_json)

# Inputs longer than the seeds need to be are slower without finding more.
max_len() {
    case $1 in
        ident) echo 128 ;;
        names) echo 512 ;;
        request_json) echo 4096 ;;
        snapshot | bulk_xlsx) echo 16384 ;;
        *) echo 8192 ;;
    esac
}

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $CARGO_FUZZ_VERSION" ]; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi

# Inputs that once failed, replayed on every run (cmin may drop them
# from the corpus).
regressions() {
    [ -d "fuzz/regressions/$1" ] && echo "fuzz/regressions/$1"
    return 0
}

# -a: debug assertions, so arithmetic overflow panics instead of wrapping.
build() { cargo +nightly fuzz build -a "$@"; }

# One process, one thread: libFuzzer's default (the machine is shared).
run() {
    local target=$1 secs=$2
    shift 2
    cargo +nightly fuzz run -a "$target" "fuzz/corpus/$target" \
        $(regressions "$target") -- \
        -max_total_time="$secs" -max_len="$(max_len "$target")" \
        -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 "$@"
}

case ${1:-smoke} in
    smoke)
        secs=${2:-20}
        build
        for t in "${TARGETS[@]}"; do
            echo "-- fuzz $t (${secs} s)"
            # Smoke runs add nothing to the checked-in corpus.
            scratch=$(mktemp -d)
            cp "fuzz/corpus/$t"/* "$scratch"/
            log=$(mktemp)
            status=0
            cargo +nightly fuzz run -a "$t" "$scratch" $(regressions "$t") -- \
                -max_total_time="$secs" -max_len="$(max_len "$t")" \
                -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
                >"$log" 2>&1 || status=$?
            grep -E '^stat::number_of_executed_units' "$log" || true
            [ "$status" -eq 0 ] || tail -n 60 "$log"
            rm -rf "$scratch" "$log"
            [ "$status" -eq 0 ] || { echo "fuzz $t failed"; exit 1; }
        done
        ;;
    run)
        # Long runs check match_key idempotence too (open findings; see
        # fuzz/findings/README.md).
        export CREDGATE_FUZZ_STRICT_KEYS=1
        build
        run "$2" "${3:-600}" "${@:4}"
        ;;
    cmin)
        build
        cargo +nightly fuzz cmin -a "$2" "fuzz/corpus/$2" -- \
            -max_len="$(max_len "$2")" -rss_limit_mb=2048 -timeout=10
        ;;
    *)
        echo "usage: $0 smoke [SECONDS] | run TARGET [SECONDS] | cmin TARGET" >&2
        exit 2
        ;;
esac
