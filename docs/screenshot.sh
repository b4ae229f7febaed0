#!/usr/bin/env bash
# Renders docs/report.png: three weekly runs a week apart on the built-in simulator (so
# the third report has week-over-week changes and a two-run track record), then headless
# Chromium draws the third report.html.
#
#   docs/screenshot.sh            (after `cargo build --release -p stockpicks`)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${STOCKPICKS:-target/release/stockpicks}"
[ -x "$BIN" ] || cargo build --release -p stockpicks
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for i in 0 1 2; do
  DAY=$(date -u -d "2026-11-09 + $((7 * i)) days" +%F)
  "$BIN" run --sim-date "$DAY" --out "$WORK/out/run$i" --history "$WORK/out/history" > /dev/null 2>> "$WORK/run.log"
done
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --hide-scrollbars --user-data-dir="$WORK/profile" \
  --window-size=960,2400 --screenshot="$PWD/docs/report.png" "file://$WORK/out/run2/report.html" 2>/dev/null
echo "wrote docs/report.png"
