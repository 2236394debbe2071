#!/usr/bin/env bash
# shuttle runs of the patterns, on threads over the reference channel and
# as tasks over flume's async channels and chanlab's async primitives, at
# sizes loom cannot explore, under the PCT scheduler (the ticker under the
# random one), beside broken twins that must fail with a replayable
# schedule. Built under the project's shuttle cfg in its own target dir,
# without debug info. ci/test.sh calls this.
set -euo pipefail
cd "$(dirname "$0")"/..

started=$SECONDS
export RUSTFLAGS="--cfg chanlab_shuttle" CARGO_PROFILE_RELEASE_DEBUG=false CARGO_TARGET_DIR=target-shuttle
# The code under this cfg is linted here: the gate's clippy step builds
# without it.
cargo clippy --release -p chanlab-scenarios --test shuttle -- -D warnings
cargo test --release -p chanlab-scenarios --test shuttle
echo "ci/shuttle.sh: shuttle runs passed in $((SECONDS - started))s"
