#!/usr/bin/env bash
# The CI report job: merges the results of every bench runner (one
# directory each under DIR, as the artifacts download) into one report with
# the machine as a dimension. A runner whose results are missing is named,
# and the others are still merged.
#
# Usage: ci/merge.sh DIR OUT_DIR
set -euo pipefail
cd "$(dirname "$0")"/..
dir=${1:?usage: ci/merge.sh DIR OUT_DIR}
out=${2:?usage: ci/merge.sh DIR OUT_DIR}

files=()
for runner in "$dir"/*/; do
    if [[ -f $runner/results.json ]]; then
        files+=("$runner/results.json")
    else
        echo "ci/merge.sh: no results from ${runner%/}; merging the others"
    fi
done
if ((${#files[@]} == 0)); then
    echo "ci/merge.sh: no runner left results in $dir" >&2
    exit 1
fi
cargo run --release --quiet -- report "${files[@]}" --name ci-merged --out "$out"
