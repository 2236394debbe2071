#!/usr/bin/env bash
# Detection power of the conformance gate, outside the gate: how often the
# blocking suite (or one check) catches a channel that loses one message in
# N contended sends, for N = 64, 1,024 and 16,384, with the settings a user
# gets. Prints a Markdown table: runs, runs that caught the twin, the 95%
# upper bound on the miss rate, and which checks caught it.
#
# Usage: ci/power.sh [RUNS] [CHECK]
#   RUNS   runs per twin (20 by default; 300 without a miss bounds the miss
#          rate under 1% at 95%)
#   CHECK  one check alone, e.g. exactly_once_under_contention
# CHANLAB_POWER_ONLY=1024 measures one twin.
set -euo pipefail
cd "$(dirname "$0")"/..
export CHANLAB_POWER_RUNS=${1:-20}
if [[ -n "${2:-}" ]]; then
    export CHANLAB_POWER_CHECK=$2
fi
cargo test --release --quiet -p chanlab-broken --test power -- --ignored --nocapture detection_power
