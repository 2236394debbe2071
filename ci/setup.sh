#!/usr/bin/env bash
# Installs what the gate needs beyond the Rust toolchain, on a fresh Debian
# machine or CI runner: Debian's Chromium (the report's browser check),
# Node.js with the check's one npm package (playwright-core, which drives
# that Chromium and downloads no browser of its own), and Go (golang-go) for
# the Go reference, go-chan. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"/..

packages=()
command -v chromium >/dev/null || packages+=(chromium)
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
command -v go >/dev/null || packages+=(golang-go)
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
