#!/usr/bin/env bash
# The bench job: the A/B regression gate. Builds the baseline revision and
# this one side by side, then measures both in one run on this machine,
# every cell on each build in turn, round after round (`chanlab ab
# --baseline-build`), and judges the pairs: a cell regressed when the
# interval of its median paired ratio lies wholly beyond the threshold,
# corrected over every cell. It also writes the dashboard exports.
#
# The baseline is BASE_REV when it names a commit (CI passes the pull
# request's base or the commit before a push), else the merge base with
# origin/main, else the commit before HEAD.
#
# Exit status: 1 when a cell regressed, failed, or was lost; 2 on an
# error. When the gate cannot tell (too few pairs, an interval past the
# threshold's edge, nothing compared: `chanlab ab` exits 3), the job
# passes with a warning naming the cells (a GitHub annotation on CI).
#
# Usage: ci/bench.sh [BASE_REV] [OUT_DIR] [-- EXTRA chanlab ab ARGS]
set -euo pipefail
cd "$(dirname "$0")"/..
base=${1:-}
out=${2:-reports/ci-bench}
shift $(($# < 2 ? $# : 2))
[[ ${1:-} == -- ]] && shift

if ! git rev-parse --verify --quiet "${base:-none}^{commit}" >/dev/null; then
    base=$(git merge-base HEAD origin/main 2>/dev/null || true)
    if [[ -z $base || $base == "$(git rev-parse HEAD)" ]]; then
        base=$(git rev-parse HEAD^)
    fi
fi
echo "ci/bench.sh: baseline $(git rev-parse --short "$base"), candidate $(git rev-parse --short HEAD)"

base_tree=target/bench-base/src
rm -rf "$base_tree"
git worktree prune
git worktree add --detach --force "$base_tree" "$base"
cargo build --release --locked --manifest-path "$base_tree/Cargo.toml" \
    --target-dir target/bench-base/target
cargo build --release --locked

status=0
target/release/chanlab ab --baseline-build target/bench-base/target/release/chanlab \
    --cached-verdicts --out "$out" \
    --json "$out/ab.json" --markdown "$out/ab.md" "$@" || status=$?
if [[ -f $out/results.json ]]; then
    target/release/chanlab export --format bmf "$out/results.json" --json "$out/bmf.json"
    target/release/chanlab export --format github-action-benchmark "$out/results.json" \
        --json "$out/github-action-benchmark.json"
fi
if [[ $status == 3 ]]; then
    # Can't tell is not a regression: say which cells, and pass.
    grep "CAN'T TELL" "$out/ab.md" | while read -r line; do
        echo "::warning title=chanlab bench: can't tell::$line"
    done
    status=0
fi
exit "$status"
