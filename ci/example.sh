#!/usr/bin/env bash
# Builds and tests impls/example-channel, the crate outside the workspace
# that uses chanlab the way a library author's crate does: git dependencies
# on chanlab's repository, the conformance macros on its own channel's
# blocking, async and bridge flavors, and a runner package that measures
# it beside crossbeam. The git source is redirected to this checkout and each
# crate the example names is patched to its working tree, so the gate
# tests this tree, offline. It builds in its own target directory, as an
# outside crate would, so the versions it records come from its own
# Cargo.lock.
#
# Usage: ci/example.sh [--measure]   (--measure also runs the runner on SPSC)
set -euo pipefail
cd "$(dirname "$0")"/..
root=$PWD
url=$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml)
cargo_args=(
    --locked
    --target-dir "$root/impls/example-channel/target"
    --config net.git-fetch-with-cli=true
    --config "patch.\"$url\".chanlab.path=\"$root/harness\""
    --config "patch.\"$url\".chanlab-contract.path=\"$root/impls/contract\""
    --config "patch.\"$url\".chanlab-conformance.path=\"$root/impls/conformance\""
)
export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.file://$root/.insteadOf" GIT_CONFIG_VALUE_0="$url"

cd impls/example-channel
cargo fmt -- --check
cargo clippy "${cargo_args[@]}" --workspace --all-targets -- -D warnings
# The channel's own tests, as its author runs them: the runner package
# (and so the chanlab command) is not built.
cargo test "${cargo_args[@]}"
if [[ ${1:-} == --measure ]]; then
    cargo run "${cargo_args[@]}" --release -p example-channel-runner -- \
        run --impl example --impl crossbeam --scenario load/spsc --out "$root/impls/example-channel/target/run" --force
fi
