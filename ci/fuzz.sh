#!/usr/bin/env bash
# A longer run of the results reader's fuzzer than the gate's minute
# (harness/report/tests/fuzz.rs): load, statistics, report, compare and
# exports on structure-aware mutations of the published results. A finding
# (a panic or a hang) is left in target/fuzz-findings/ with the seed that
# replays it.
#
# Usage: ci/fuzz.sh [SECONDS] [FIRST_SEED]   (600 and 1 by default)
set -euo pipefail
cd "$(dirname "$0")"/..
CHANLAB_FUZZ_SECONDS=${1:-600} CHANLAB_FUZZ_SEED=${2:-1} \
    cargo test --release -p chanlab-report --test fuzz -- --nocapture
