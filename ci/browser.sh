#!/usr/bin/env bash
# The report's browser check: renders the published report's results (once
# alone, once merged with itself as a second machine) and opens each page
# in headless Chromium (ci/browser/check.mjs), which must find every chart
# drawn, on screen and in print, no console error, and the answer on the
# first screen. Then the check's broken twins: pages with a chart removed,
# a console error, an external font, charts hidden in print, and the
# answer moved to the end, each of which it must reject.
set -euo pipefail
cd "$(dirname "$0")"/..
ci/setup.sh

results=reports/published/quick/results.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
check() { node ci/browser/check.mjs "$@"; }

# The binary the release test build made (a no-op after the gate's nextest
# run; `cargo run` would rebuild it without the dev-dependencies' features).
cargo test --workspace --release --no-run --quiet 2>/dev/null
chanlab=target/release/chanlab
"$chanlab" report "$results" --out "$work/single" --name single >/dev/null
"$chanlab" report "$results" "$results" --out "$work/merged" --name merged >/dev/null
check "$work/single/index.html"
check "$work/merged/index.html"

# Each twin must be rejected for its own fault, not for any failure.
twin() {
    local name=$1 edit=$2 expected=$3
    perl -0pe "$edit" "$work/single/index.html" >"$work/single/$name.html"
    if check "$work/single/$name.html" >"$work/$name.log" 2>&1; then
        echo "ci/browser.sh: the browser check passed the $name twin" >&2
        cat "$work/$name.log" >&2
        exit 1
    fi
    if ! grep -q -- "$expected" "$work/$name.log"; then
        echo "ci/browser.sh: the $name twin failed, but not with \"$expected\":" >&2
        cat "$work/$name.log" >&2
        exit 1
    fi
    echo "twin $name rejected: $(grep -m1 -- "$expected" "$work/$name.log" | sed 's/^ *//')"
}
twin missing-chart 's/<svg.*?<\/svg>//s' "draws nothing"
twin console-error 's/<\/body>/<script>console.error("planted")<\/script><\/body>/' "console error: planted"
twin external-font 's/<\/head>/<link rel="stylesheet" href="https:\/\/fonts.example.com\/x.css"><\/head>/' "reaches outside itself"
twin hidden-in-print 's/<\/style>/\@media print { figure.chart svg { display: none; } }<\/style>/' "print: chart"
twin answer-last 's/(<section id="answer">.*?<\/section>\n)(.*)(<\/main>)/$2$1$3/s' "not on the first screen"
echo "ci/browser.sh: report renders in headless Chromium; 5 broken twins rejected"
