#!/usr/bin/env bash
# Runs the cargo-fuzz targets (nightly toolchain only; a normal build never needs nightly).
#
#   fuzz/run.sh [SECONDS_PER_TARGET=600] [TARGET...]
#
# Seeds come from the fixtures (and fuzz/seeds for inputs with no fixture); the growing corpus is
# kept in fuzz/corpus (not committed). Crashes land in fuzz/artifacts/TARGET/; keep each one under
# fixtures/fuzz-regressions/TARGET/ so tests/it/fuzz_regressions.rs replays it on every `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-600}
# -O (default) for long runs; scripts/test's smoke uses --dev: an unoptimised build of the library
# (with the AWS SDK crates, one of which is very large) compiles in a fraction of the time, and a
# few seconds per target need coverage, not speed.
MODE=${SHIPCHECK_FUZZ_MODE:--O}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(signature catalog reference manifest audit taskdef iam)

seeds() {
    case "$1" in
        signature) echo fuzz/seeds/signature ;;
        catalog) echo keys ;;
        reference) echo fuzz/seeds/reference ;;
        manifest) echo fuzz/seeds/manifest ;;
        audit) echo fixtures/audit ;;
        taskdef) echo fixtures/taskdef ;;
        iam) echo fixtures/iam ;;
    esac
    [ -d "fixtures/fuzz-regressions/$1" ] && echo "fixtures/fuzz-regressions/$1"
    return 0
}

cargo +nightly fuzz build "$MODE"
# libFuzzer runs one target on one core: run as many targets at once as there are cores
# (SHIPCHECK_FUZZ_JOBS to change it), each for the full time.
JOBS=${SHIPCHECK_FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
run_one() {
    local t=$1
    mkdir -p "fuzz/corpus/$t" "$LOGS/tmp-$t"
    # Targets that need a file write it in TMPDIR: the run's own directory, removed at the end.
    # shellcheck disable=SC2046
    TMPDIR="$LOGS/tmp-$t" cargo +nightly fuzz run "$MODE" "$t" "fuzz/corpus/$t" $(seeds "$t") -- \
        -max_total_time="$SECS" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        >"$LOGS/$t" 2>&1 || true
}
failed=0
i=0
while [ $i -lt ${#TARGETS[@]} ]; do
    batch=("${TARGETS[@]:$i:$JOBS}")
    for t in "${batch[@]}"; do
        echo "== fuzz $t for ${SECS}s"
        run_one "$t" &
    done
    wait
    for t in "${batch[@]}"; do
        echo "-- $t"
        grep -E '^(stat::|==|SUMMARY|Done|#[0-9]+ *DONE)|panicked|ERROR' "$LOGS/$t" || true
        if ls "fuzz/artifacts/$t"/crash-* >/dev/null 2>&1; then
            echo "!! $t: crash inputs in fuzz/artifacts/$t"
            failed=1
        fi
    done
    i=$((i + JOBS))
done
exit $failed
