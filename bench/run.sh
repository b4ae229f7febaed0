#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md on this machine, with one command:
#   bench/run.sh
# Builds the release binaries, then measures
#   1. quota efficiency: 503 symbols at 600, 1200 and 6000 requests/min, one process
#      (`stockpicks run` against a standalone simulator) and distributed (the Lambda
#      coordinator with local lanes, examples/bench_lanes): wall / (calls / quota), throttles;
#   2. API calls per weekly run: cold, warm, warm with bulk quotes, quiet week and earnings
#      season (examples/bench_calls);
#   3. peak RSS and CPU per symbol, 503 and 10,000 symbols (client process only);
#   4. scoring throughput at 10k and 100k stocks (examples/bench_scoring);
#   5. the Lambda binary: cold start (bench/cold_start.py) and zip size, when
#      `cargo lambda build -p stockpicks --release --features aws --bin stock-analysis-function
#      --output-format zip --lambda-dir target/lambda-x86_64` has been run (it takes long);
#   6. GB-seconds and dollars per weekly run per quota tier (bench/costs.py), from 1 and 2.
# Nothing here is part of the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
# The CLI (binary `stockpicks`, with the simulator) is its own package; the examples are the
# function library's. CARGO_TARGET_DIR is honoured (default: target/ at the top level).
target=${CARGO_TARGET_DIR:-target}
cargo build --release -p stockpicks-cli --bin stockpicks -p stockpicks --example bench_scoring --example bench_lanes --example bench_calls 2>&1 | tail -1
bin=$target/release/stockpicks
out=$(mktemp -d)
sim_pid=""
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null || true; rm -rf "$out"; }
trap cleanup EXIT

start_sim() { # rate -> sets sim_url
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$bin" sim --port "$port" --rate-per-min "$1" >"$out/sim.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.05; done
  sim_url="http://127.0.0.1:$port"
}
stop_sim() { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=""; }

# label, rate, run args...: one client process against the standalone simulator.
client_run() {
  local label=$1 rate=$2; shift 2
  start_sim "$rate"
  rm -rf "$out/run"
  ALPHA_VANTAGE_BASE_URL="$sim_url" ALPHA_VANTAGE_RATE_PER_MIN="$rate" MAX_WORKERS=8 \
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" "$bin" run --out "$out/run" "$@" >"$out/stdout" 2>"$out/stderr"
  stop_sim
  read -r wall user sys rss <"$out/time"
  calls=$(grep -oE '[0-9]+ API calls' "$out/stderr" | grep -oE '^[0-9]+')
  throttled=$(grep -oE '[0-9]+ throttled' "$out/stderr" | head -1 | grep -oE '^[0-9]+')
  symbols=$(grep -oE '/ [0-9]+ in universe' "$out/stderr" | grep -oE '[0-9]+')
  python3 - "$label" "$rate" "$wall" "$user" "$sys" "$rss" "$calls" "$throttled" "$symbols" <<'EOF'
import sys
label, rate, wall, user, sys_, rss, calls, thr, n = sys.argv[1:]
rate, wall, user, sys_, rss, calls, n = float(rate), float(wall), float(user), float(sys_), int(rss), int(calls), int(n)
bound = calls * 60 / rate
print(f"{label:<44} wall {wall:7.2f} s  bound {bound:7.2f} s  ratio {wall / bound:.3f}  calls {calls}  throttled {thr}  "
      f"peak RSS {rss / 1024:6.1f} MB  CPU {(user + sys_) * 1e3 / n:.2f} ms/symbol")
EOF
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -srm), $(rustc --version)"
echo
echo "== 1. quota efficiency, 503 symbols (goal: ratio <= 1.05, zero throttles)"
ratios="$out/ratios"
for rate in 600 1200 6000; do
  client_run "one process @ ${rate}/min" "$rate" --no-cache --no-history | tee -a "$ratios"
done
for rate in 600 1200 6000; do
  client_run "one process @ ${rate}/min, cache on (cold)" "$rate" --cache "$out/cache-$rate" --no-history | tee -a "$ratios"
done
for rate in 600 1200 6000; do
  "$target"/release/examples/bench_lanes "$rate" 503 | tee -a "$ratios"
  "$target"/release/examples/bench_lanes "$rate" 503 cache | tee -a "$ratios"
done
echo
echo "== 2. calls per weekly run (goal with bulk quotes: warm <= 10% of cold quiet, <= 40% season)"
"$target"/release/examples/bench_calls | tee "$out/calls"
echo
echo "== 3. peak RSS and CPU per symbol (client process; goal < 40 MB at 503, < 100 MB at 10,000)"
python3 - "$out/u10k.csv" <<'EOF'
import sys
sectors = ["Information Technology", "Health Care", "Financials", "Consumer Discretionary", "Communication Services",
           "Industrials", "Consumer Staples", "Energy", "Utilities", "Real Estate", "Materials"]
with open(sys.argv[1], "w") as f:
    f.write("symbol,company,sector,cik\n")
    for i in range(10_000):
        f.write(f"S{i}X,Synthetic {i},{sectors[i % len(sectors)]},{1_000_000 + i}\n")
EOF
client_run "503 symbols @ 60000/min" 60000 --no-cache --no-history
client_run "503 symbols, cache + history (cold)" 60000 --cache "$out/c503" --history "$out/h503"
client_run "10,000 symbols @ 60000/min" 60000 --no-cache --no-history --universe "$out/u10k.csv"
client_run "10,000 symbols, cache + history (cold)" 60000 --cache "$out/c10k" --history "$out/h10k" --universe "$out/u10k.csv"
echo
echo "== 4. scoring throughput"
"$target"/release/examples/bench_scoring 10000
"$target"/release/examples/bench_scoring 100000
echo
echo "== 5. the Lambda binary"
lambda_bin=$target/x86_64-unknown-linux-gnu/release/stock-analysis-function
zip=target/lambda-x86_64/stock-analysis-function/bootstrap.zip
if [ -x "$lambda_bin" ] && [ -f "$zip" ]; then
  python3 bench/cold_start.py "$lambda_bin" 30
  echo "zip: $(stat -c %s "$zip") bytes ($(python3 -c "print(round($(stat -c %s "$zip")/1048576, 2))") MiB), binary $(stat -c %s "$lambda_bin") bytes (goal: zip < 8 MB)"
else
  echo "skipped: build it first with cargo lambda build -p stockpicks --release --features aws --bin stock-analysis-function --output-format zip --lambda-dir target/lambda-x86_64"
fi
echo
echo "== 6. GB-seconds and dollars per weekly run"
# The worst measured efficiency and the measured calls go into the cost table.
efficiency=$(grep -oE 'ratio [0-9.]+' "$ratios" | awk '{print $2}' | sort -n | tail -1)
python3 bench/costs.py --efficiency "$efficiency" $(grep -oE 'measured-calls: .*' "$out/calls" | cut -d' ' -f2-)
