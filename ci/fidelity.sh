#!/usr/bin/env bash
# Fidelity: chanlab's channel load against the field's own benchmark on the
# same cells, measured side by side in one interleaved run. The peer is
# crossbeam-channel's `benchmarks/` suite (its crossbeam-channel, flume and
# std mpsc binaries, and go.go), built in a scratch directory outside the
# project against the library versions chanlab's Cargo.lock holds; none of
# its code is kept in this repository. `chanlab fidelity` then runs every
# cell both ways and prints chanlab's ns per message over the suite's, with
# its spread, and writes them to JSON for the report's methodology section.
#
# The suite's sources are used as published, with three edits made here on
# the scratch copy: the message count comes from $MESSAGES (its constant is
# 5,000,000, minutes per run for rendezvous cells on two cores), one cell is
# picked by $CELL, and seconds are printed with nine decimals instead of
# three.
#
# Usage: ci/fidelity.sh [--crossbeam DIR] [-- ARGS for chanlab fidelity]
#   DIR is a crossbeam checkout or its git directory; by default the
#   repository is cloned into the scratch directory.
# Scratch: $CHANLAB_FIDELITY_DIR, or ~/.cache/chanlab-fidelity.
set -euo pipefail
cd "$(dirname "$0")"/..
project=$PWD

crossbeam=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --crossbeam) crossbeam="$2"; shift 2 ;;
        --) shift; break ;;
        *) echo "usage: ci/fidelity.sh [--crossbeam DIR] [-- ARGS for chanlab fidelity]" >&2; exit 2 ;;
    esac
done

scratch=${CHANLAB_FIDELITY_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/chanlab-fidelity}
case "$(realpath -m "$scratch")/" in
    "$project"/*) echo "fidelity: the scratch directory must be outside the project" >&2; exit 2 ;;
esac
mkdir -p "$scratch"

# The suite's sources, from a checkout, a git directory, or a fresh clone.
src="$scratch/src"
rm -rf "$src" && mkdir -p "$src"
if [[ -z "$crossbeam" ]]; then
    crossbeam="$scratch/crossbeam.git"
    [[ -d "$crossbeam" ]] || git clone --bare --quiet https://github.com/crossbeam-rs/crossbeam "$crossbeam"
fi
if [[ -d "$crossbeam/crossbeam-channel/benchmarks" ]]; then
    cp -r "$crossbeam/crossbeam-channel/benchmarks/." "$src/"
    revision=$(git -C "$crossbeam" rev-parse HEAD 2>/dev/null || echo unknown)
else
    git --git-dir "$crossbeam" archive HEAD crossbeam-channel/benchmarks | tar -x -C "$src" --strip-components=2
    revision=$(git --git-dir "$crossbeam" rev-parse HEAD)
fi

# The versions chanlab measures.
locked() {
    awk -v name="$1" '$0 == "name = \"" name "\"" { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock
}
crossbeam_channel=$(locked crossbeam-channel)
flume=$(locked flume)

peer="$scratch/peer"
mkdir -p "$peer/src"
for file in crossbeam-channel.rs flume.rs mpsc.rs message.rs; do
    # MESSAGES from the environment, one cell by $CELL, nine decimals.
    sed -E \
        -e 's/^const MESSAGES: usize = [0-9_]+;$/fn messages() -> usize { std::env::var("MESSAGES").ok().and_then(|m| m.parse().ok()).unwrap_or(5_000_000) }\nfn wanted(name: \&str) -> bool { std::env::var("CELL").map_or(true, |cell| cell == name) }/' \
        -e '/^fn messages/!s/\bMESSAGES\b/messages()/g' \
        -e 's/^(\s*)run!\(("[a-z0-9_]+"), (.*)\);$/\1if wanted(\2) { run!(\2, \3); }/' \
        -e 's/\{:7\.3\} sec/{:.9} sec/' \
        "$src/$file" > "$peer/src/$file"
done
cat > "$peer/Cargo.toml" <<EOF
[package]
name = "chanlab-fidelity-peer"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
crossbeam = "0.8"
crossbeam-channel = "=$crossbeam_channel"
flume = "=$flume"

[[bin]]
name = "crossbeam-channel"
path = "src/crossbeam-channel.rs"

[[bin]]
name = "flume"
path = "src/flume.rs"

[[bin]]
name = "mpsc"
path = "src/mpsc.rs"

[workspace]
EOF
echo "fidelity: building crossbeam's benchmarks ($revision) against crossbeam-channel $crossbeam_channel and flume $flume in $peer" >&2
(cd "$peer" && cargo build --release --quiet)

go_bin=()
if command -v go >/dev/null; then
    mkdir -p "$peer/go"
    sed -E \
        -e 's/^const MESSAGES = .*$/var MESSAGES = messagesFromEnv()/' \
        -e 's/^import "time"$/import "time"\nimport "os"\nimport "strconv"/' \
        -e 's/^func run\(name string, f func\(int\), cap int\) \{$/&\n    if cell := os.Getenv("CELL"); cell != "" \&\& cell != name { return }/' \
        -e 's/%7\.3f sec/%.9f sec/' \
        "$src/go.go" > "$peer/go/main.go"
    cat >> "$peer/go/main.go" <<'EOF'

func messagesFromEnv() int {
    if n, err := strconv.Atoi(os.Getenv("MESSAGES")); err == nil {
        return n
    }
    return 5 * 1000 * 1000
}
EOF
    (cd "$peer/go" && [[ -f go.mod ]] || go mod init chanlab-fidelity-peer >/dev/null 2>&1; cd "$peer/go" && go build -o go-bench .)
    go_bin=(--go-bench "$peer/go/go-bench")
else
    echo "fidelity: no Go toolchain, so no go-chan cells (ci/setup.sh installs one)" >&2
fi

cargo build --release --quiet --bin chanlab
exec target/release/chanlab fidelity --bench-dir "$peer/target/release" "${go_bin[@]}" \
    --peer-revision "$revision" "$@"
