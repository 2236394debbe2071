#!/usr/bin/env bash
# The conformance gate's own flake rate: runs every suite on every shipped
# implementation N times (default 10) while busy loops load every core, and
# counts the runs that failed. Every shipped flavor passes (or fails only as
# declared), so any failure here is a false one. Not part of the gate.
#
# Usage: ci/flake.sh [RUNS]
# Each run's JSON and output: target/flake/run-<i>.{json,txt}.
set -euo pipefail
cd "$(dirname "$0")"/..

runs="${1:-10}"
cargo build --release --quiet
mkdir -p target/flake

busy=()
for _ in $(seq "$(nproc)"); do
    (while :; do :; done) &
    busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT

failed=0
started=$SECONDS
for i in $(seq "$runs"); do
    run_started=$SECONDS
    if ./target/release/chanlab conformance --json "target/flake/run-$i.json" \
        > "target/flake/run-$i.txt" 2>&1; then
        echo "run $i: pass ($((SECONDS - run_started))s)"
    else
        failed=$((failed + 1))
        echo "run $i: FAILED ($((SECONDS - run_started))s):"
        sed -n '/^failures:/,$p' "target/flake/run-$i.txt" | head -20
    fi
done
echo "ci/flake.sh: $failed of $runs runs failed with $(nproc) busy loops, in $((SECONDS - started))s"
[[ $failed -eq 0 ]]
