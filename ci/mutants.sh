#!/usr/bin/env bash
# Mutation testing of the synchronization chanlab owns: the reference
# channels (impls/channels/src/reference*.rs) and the coordination
# primitives (scenarios/src/coord/). Each mutant (a changed operator, a
# function body replaced by a default) must be caught by some test; one that
# survives is a missing check or an equivalent mutant. Not part of the gate:
# the whole set (410 mutants) takes about an hour on two cores.
#
# Three passes, each over the survivors of the one before (--iterate skips
# the caught and the unviable), from the cheapest tests to the dearest:
#   1. the reference flavors' conformance suites and coord's own tests;
#   2. every test of the mutated package (the patterns over coord, every
#      flavor's suite);
#   3. the loom models (in chanlab-broken for the reference channels, in
#      chanlab-scenarios for coord).
# Every pass iterates on what target/mutants holds, so a run cut short (by
# --minutes, or Ctrl-C) goes on where it stopped when started again; delete
# target/mutants to start over after the code changed.
# Builds use the test profile: a mutant is an incremental debug build of one
# crate and its tests, seconds instead of the release profile's minutes.
#
# Usage: ci/mutants.sh [--shard K/N] [--minutes M]   (defaults: all, 90)
# A shard runs every N-th mutant (round robin, so a shard samples every
# file), so N machines (or N evenings) share one run. Results:
# target/mutants/mutants.out (caught.txt, missed.txt, ...).
set -euo pipefail
cd "$(dirname "$0")"/..

shard=()
minutes=90
while [[ $# -gt 0 ]]; do
    case "$1" in
        --shard) shard=(--shard "$2" --sharding round-robin); shift 2 ;;
        --minutes) minutes="$2"; shift 2 ;;
        *) echo "usage: ci/mutants.sh [--shard K/N] [--minutes M]" >&2; exit 2 ;;
    esac
done

if ! cargo mutants --version >/dev/null 2>&1; then
    cargo install --locked cargo-mutants
fi

files=(
    -f impls/channels/src/reference.rs
    -f impls/channels/src/reference_async.rs
    -f 'scenarios/src/coord/**'
)
out=target/mutants
deadline=$((SECONDS + minutes * 60))

# One cargo-mutants pass in the time left; extra arguments go to it, and
# after `--` to nextest. cargo-mutants exits 2 when mutants were missed and
# 3 when some timed out, and timeout's INT lets it write what it has:
# results to read, not failures of this script.
pass() {
    local left=$(((deadline - SECONDS) / 60))
    if [[ $left -le 0 ]]; then
        echo "ci/mutants.sh: no time left for: $*" >&2
        return 0
    fi
    local status=0
    timeout --signal=INT "${left}m" cargo mutants --workspace "${files[@]}" "${shard[@]}" \
        --test-tool nextest --output "$out" "$@" \
        || status=$?
    if [[ $status -ne 0 && $status -ne 2 && $status -ne 3 && $status -ne 124 ]]; then
        echo "ci/mutants.sh: cargo mutants failed ($status)" >&2
        exit "$status"
    fi
}

# Its own target dir, seeded with the debug build's dependencies so only
# chanlab's crates are built again.
export CARGO_TARGET_DIR="$PWD/target-mutants"
if [[ ! -d "$CARGO_TARGET_DIR/debug" && -d target/debug ]]; then
    mkdir -p "$CARGO_TARGET_DIR"
    cp -r target/debug "$CARGO_TARGET_DIR/"
fi
# Each pass's outcomes are kept in $out/pass-N (cargo-mutants rewrites
# mutants.out each time, listing only what that pass decided). A mutant that hung the tests counts as caught: the
# gate would hang on it too, and the later passes leave it out rather than
# wait for it again.
# A run that resumes numbers its passes after the ones it finds.
passes=$(find "$out" -maxdepth 1 -name 'pass-*' 2>/dev/null | wc -l)
hung=()
collect_hung() {
    hung=()
    while IFS= read -r name; do
        hung+=(-E "^$(sed 's/[][\\.*^$(){}+?|]/\\&/g' <<<"$name")\$")
    done < <(cat "$out"/pass-*/timeout.txt 2>/dev/null)
}
finish_pass() {
    passes=$((passes + 1))
    rm -rf "$out/pass-$passes"
    cp -r "$out/mutants.out" "$out/pass-$passes"
    collect_hung
}

collect_hung
pass --iterate "${hung[@]}" -- -E 'test(/reference|coord::/)'
finish_pass
survivors() { [[ -s "$out/mutants.out/missed.txt" ]]; }
if survivors; then
    pass --iterate "${hung[@]}" --timeout 240
    finish_pass
fi
if survivors; then
    RUSTFLAGS="--cfg chanlab_loom" CARGO_TARGET_DIR="$PWD/target-loom" \
        pass --iterate "${hung[@]}" --profile release \
        --test-package chanlab-broken --test-package chanlab-scenarios -- -E 'binary(loom)'
    finish_pass
fi

count() { cat "$out"/pass-*/"$1".txt 2>/dev/null | sort -u | wc -l; }
total=$(cargo mutants --workspace "${files[@]}" "${shard[@]}" --list | wc -l)
caught=$(count caught) hung=$(count timeout) unviable=$(count unviable)
echo "ci/mutants.sh: of $total mutants, caught $caught, hung the tests (caught) $hung, unviable $unviable"
echo "ci/mutants.sh: not caught: $((total - caught - hung - unviable)) (missed, or not tested when time ran out); the last pass's list is $out/pass-$passes/missed.txt"
