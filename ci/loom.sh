#!/usr/bin/env bash
# loom models of the synchronization chanlab owns (the reference channel,
# the coordination primitives, the patterns' shutdown paths), each beside a
# broken twin loom must catch. Built under the project's loom cfg in their
# own target dir, so the normal build is not redone, and without debug info,
# which only a panic's backtrace would read. ci/test.sh calls this.
set -euo pipefail
cd "$(dirname "$0")"/..

started=$SECONDS
export RUSTFLAGS="--cfg chanlab_loom" CARGO_PROFILE_RELEASE_DEBUG=false CARGO_TARGET_DIR=target-loom
# The code under this cfg is linted here: the gate's clippy step builds
# without it.
cargo clippy --release -p chanlab-broken -p chanlab-scenarios --test loom -- -D warnings
cargo test --release -p chanlab-broken -p chanlab-scenarios --test loom
echo "ci/loom.sh: loom models passed in $((SECONDS - started))s"
