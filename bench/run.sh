#!/usr/bin/env bash
# Reproduces the performance figures in BENCHMARKS.md on this machine.
#   bench/run.sh
# Builds release binaries, then measures: a full S&P 500 run against the simulator at 6000
# requests/min (wall time vs the quota bound, throttles, peak RSS); the default no-key run;
# and scoring throughput at 10k and 100k stocks. Nothing here is part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin stockpicks --example bench_scoring >/dev/null
bin=target/release/stockpicks
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

measure() { # label, then the command; prints wall time, peak RSS and the run's own summary
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/time" "$@" >"$out/stdout" 2>"$out/stderr"
  read -r wall rss <"$out/time"
  printf '%-44s wall %6.2f s  peak RSS %6.1f MB  | %s\n' "$label" "$wall" "$(echo "$rss/1024" | bc -l)" "$(grep -E '^Coverage' "$out/stderr")"
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm)"
for i in 1 2 3; do
  measure "503 symbols @ 6000/min (bound 5.03 s) #$i" env -u ALPHA_VANTAGE_API_KEY ALPHA_VANTAGE_RATE_PER_MIN=6000 "$bin" run --out "$out/r$i"
done
measure "default no-key run (12000/min, bound 2.52 s)" env -u ALPHA_VANTAGE_API_KEY -u ALPHA_VANTAGE_RATE_PER_MIN "$bin" run --out "$out/default"
target/release/examples/bench_scoring 10000
target/release/examples/bench_scoring 100000
