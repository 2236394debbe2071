#!/usr/bin/env bash
# shuttle runs of the patterns over the reference channel, at sizes loom
# cannot explore, under the PCT scheduler, each beside a broken twin that
# must fail with a replayable schedule. Built under the project's shuttle
# cfg in its own target dir, without debug info. ci/test.sh calls this.
set -euo pipefail
cd "$(dirname "$0")"/..

started=$SECONDS
RUSTFLAGS="--cfg chanlab_shuttle" CARGO_PROFILE_RELEASE_DEBUG=false CARGO_TARGET_DIR=target-shuttle \
    cargo test --release -p chanlab-scenarios --test shuttle
echo "ci/shuttle.sh: shuttle runs passed in $((SECONDS - started))s"
