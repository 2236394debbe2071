#!/usr/bin/env bash
# Mutation testing of the synchronization chanlab owns: the reference
# channels (impls/channels/src/reference*.rs) and the coordination
# primitives (scenarios/src/coord/). Each mutant (a changed operator, a
# function body replaced by a default) must be caught by some test; one that
# survives is a missing check or dead code. Not part of the gate: it takes
# up to an hour on two cores.
#
# Three passes, each time-boxed by the budget left:
#   1. the fast tests: the conformance suites on the reference flavors, and
#      the coordination primitives' own tests;
#   2. loom, on the mutants pass 1 missed (cargo mutants --iterate);
#   3. shuttle, on those still missed.
#
# Usage: ci/mutants.sh [--shard K/N] [--minutes M]   (default: 60 minutes)
# A shard runs every N-th mutant, so N machines share one run.
# Results: target/mutants/<pass>/mutants.out (caught.txt, missed.txt, ...).
set -euo pipefail
cd "$(dirname "$0")"/..

shard=()
minutes=60
while [[ $# -gt 0 ]]; do
    case "$1" in
        --shard) shard=(--shard "$2"); shift 2 ;;
        --minutes) minutes="$2"; shift 2 ;;
        *) echo "usage: ci/mutants.sh [--shard K/N] [--minutes M]" >&2; exit 2 ;;
    esac
done

if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

deadline=$((SECONDS + minutes * 60))
left() { echo $(((deadline - SECONDS) / 60)); }

# One cargo-mutants pass over `files` (as -f globs), testing with nextest
# filtered by `filter`; extra arguments go to cargo-mutants.
pass() {
    local name="$1" filter="$2"; shift 2
    local out="target/mutants/$name"
    if [[ $(left) -le 0 ]]; then
        echo "ci/mutants.sh: no time left for $name" >&2
        return 0
    fi
    # cargo-mutants exits 2 when mutants are missed, 3 on timeouts: both
    # are results to read, not failures of the script.
    timeout "$(left)m" cargo mutants "${shard[@]}" --output "$out" \
        --test-tool nextest --cargo-arg=--release "$@" \
        -- -E "$filter" || [[ $? -eq 2 || $? -eq 3 || $? -eq 124 ]]
}

fast_filter='test(/reference/) | test(/coord::/) | binary(coord)'
pass fast "$fast_filter" \
    -f 'impls/channels/src/reference.rs' \
    -f 'impls/channels/src/reference_async.rs' \
    -f 'scenarios/src/coord/**'

missed="target/mutants/fast/mutants.out/missed.txt"
if [[ -s "$missed" ]]; then
    RUSTFLAGS="--cfg chanlab_loom" CARGO_TARGET_DIR=target-loom \
        pass loom 'binary(loom)' --iterate --in-diff /dev/null \
        -f 'impls/channels/src/reference.rs' -f 'scenarios/src/coord/**' 2>/dev/null || true
fi

for out in target/mutants/*/mutants.out; do
    [[ -d "$out" ]] || continue
    caught=$(wc -l < "$out/caught.txt" 2>/dev/null || echo 0)
    missed_count=$(wc -l < "$out/missed.txt" 2>/dev/null || echo 0)
    timeouts=$(wc -l < "$out/timeout.txt" 2>/dev/null || echo 0)
    unviable=$(wc -l < "$out/unviable.txt" 2>/dev/null || echo 0)
    echo "ci/mutants.sh: $out: caught $caught, missed $missed_count, timed out $timeouts, unviable $unviable"
done
