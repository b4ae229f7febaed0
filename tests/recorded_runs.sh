#!/usr/bin/env bash
# Runs the scoring on the real recorded Alpha Vantage replies, twice, for before/after figures:
#   OUT/recorded  the 18 recorded OVERVIEW replies alone (as scoring-check.md's out2)
#   OUT/mixed     the S&P 500 from the simulator (seed 42, 2026-12-01) with the recorded
#                 replies in place of, or beside, the simulated ones (as out3, over the whole index)
# The mixed fixture set is built in a temporary directory; nothing is written to the repository.
#
#   tests/recorded_runs.sh OUT [STOCKPICKS_BINARY]
#   python3 tests/recorded_summary.py OUT_BEFORE OUT_AFTER
set -euo pipefail
out=${1:?usage: tests/recorded_runs.sh OUT [BINARY]}
bin=${2:-${CARGO_TARGET_DIR:-target}/debug/stockpicks}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${SHARED_DATA:-$root/../shared/data}/alphavantage
[ -d "$data/overview" ] || { echo "no recorded replies at $data/overview" >&2; exit 2; }
mkdir -p "$out"
out=$(cd "$out" && pwd)
fx=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$fx"' EXIT

start_sim() { # args...; sets url and pid
  local log=$fx/sim.$RANDOM.log
  "$bin" sim --port 0 --rate-per-min 600000 "$@" >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    url=$(grep -o 'http://127.0.0.1:[0-9]*' "$log" | head -1 || true)
    [ -n "$url" ] && return 0
    sleep 0.1
  done
  echo "simulator did not start: $(cat "$log")" >&2
  exit 1
}

mkdir -p "$fx/overview"
start_sim --seed 42 --date 2026-12-01
sp500=$(tail -n +2 "$root/function/data/sp500.csv" | cut -d, -f1 | tr . -)
for s in $sp500; do
  curl -sf "$url/query?function=OVERVIEW&symbol=$s&apikey=x" -o "$fx/overview/$s.json"
done
kill "$pid"
cp "$data"/overview/*.json "$fx/overview/"
recorded=$(cd "$data/overview" && ls *.json | sed 's/\.json$//' | paste -sd, -)

start_sim --fixtures "$fx"
run() { # name symbols
  ALPHA_VANTAGE_API_KEY=DEMO1234ABCD5678 ALPHA_VANTAGE_BASE_URL=$url ALPHA_VANTAGE_RATE_PER_MIN=600000 \
    "$bin" run --symbols "$2" --out "$out/$1" --no-history --no-cache --format json >/dev/null
}
run recorded "$recorded"
run mixed "$(echo "$sp500" | paste -sd, -),$recorded"
kill "$pid"
echo "wrote $out/recorded and $out/mixed"
