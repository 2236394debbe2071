#!/usr/bin/env bash
# The bench job: measures the quick profile with enough repetitions for the
# comparison to reach significance (10 a cell: with ~430 comparisons, Holm's
# correction needs 9 or more), renders the report, compares with BASELINE
# when there is one, and writes the dashboard exports beside the report.
# Exit status: 1 when a cell failed or the comparison found a significant
# regression beyond 10%.
#
# Shared CI runners are noisy and change hardware between runs: this gate
# is for coarse regressions there. For a fine A/B on one machine use
# `chanlab ab A B`, which interleaves both sides in one run.
#
# Usage: ci/bench.sh [BASELINE_RESULTS] [OUT_DIR]
set -euo pipefail
cd "$(dirname "$0")"/..
baseline=${1:-}
out=${2:-reports/ci-bench}

status=0
cargo run --release --quiet -- run --repetitions 10 --out "$out" || status=$?
cargo run --release --quiet -- export --format bmf "$out/results.json" --json "$out/bmf.json"
cargo run --release --quiet -- export --format github-action-benchmark "$out/results.json" \
    --json "$out/github-action-benchmark.json"
if [[ -n $baseline && -f $baseline ]]; then
    cargo run --release --quiet -- compare "$baseline" "$out/results.json" \
        --max-regression 10% --markdown "$out/compare.md" || status=1
else
    echo "ci/bench.sh: no baseline${baseline:+ at $baseline}; this run can become the baseline"
fi
exit "$status"
