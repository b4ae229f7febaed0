"""Figures of one 500-symbol run under the Lambda runtime: `cargo lambda watch` running
`stock-analysis-function`, S3 and SES in moto, Alpha Vantage from the simulator.

    .venv/bin/python bench/lambda_figures.py [RATE_PER_MIN ...]

Needs the release binaries, built beforehand so watch does not compile on the first invoke
(with CARGO_TARGET_DIR exported if you use one):
    (cd function && cargo build --release --features aws --bin stock-analysis-function)
    cargo build --release -p stockpicks-cli --bin stockpicks
Prints, per
quota: wall time of the run invocation (it returns when its lanes have finished, since
watch serves asynchronous invocations synchronously) against the quota bound, Lambda
invocations, Alpha Vantage calls, S3 and SES requests, and the peak RSS of each function
process. Not a test: nothing is asserted."""

import json
import re
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests/e2e"))
from conftest import BUCKET, running_stack  # noqa: E402


def get_json(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.load(r)


def function_peaks():
    peaks = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "release/stock-analysis-function" not in cmd and not cmd.startswith("stock-analysis-function"):
                continue
            status = (proc / "status").read_text()
            peaks.append(int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024)
        except (OSError, AttributeError):
            continue
    return sorted(peaks, reverse=True)


def measure(rate):
    with tempfile.TemporaryDirectory() as d, running_stack(Path(d), rate_per_min=str(rate), max_lanes="10", release=True) as s:
        s.invoke(ROOT / "tests/payloads/test_payload.json", "warm")  # first-invoke start-up excluded
        moto_log = s.logs["moto"]
        moto_start = len(moto_log.read_text().splitlines())
        sim_start = get_json(f"http://127.0.0.1:{s.sim}/sim/stats")
        proxy_start = len(get_json(f"http://127.0.0.1:{s.proxy}/log"))
        t0 = time.time()
        out = s.invoke(ROOT / "tests/payloads/payload_500.json", "p500")
        wall = time.time() - t0
        lines = moto_log.read_text().splitlines()[moto_start:]
        s3 = [l for l in lines if f" /{BUCKET}" in l]
        ses = [l for l in lines if "/v2/email/outbound-emails" in l]
        sim_end = get_json(f"http://127.0.0.1:{s.sim}/sim/stats")
        lanes = get_json(f"http://127.0.0.1:{s.proxy}/log")[proxy_start:]
        by_verb = {}
        for l in s3:
            verb = l.split('"')[1].split()[0]
            by_verb[verb] = by_verb.get(verb, 0) + 1
        bound = 500 / (rate / 60)
        print(f"quota {rate}/min: status {out['status']}, mode {out.get('mode')}, lanes {out.get('lanes')}")
        print(f"  wall {wall:.2f} s vs quota bound {bound:.2f} s (ratio {wall / bound:.2f})")
        print(f"  invocations: 1 run + {len(lanes)} lane (async) = {1 + len(lanes)}")
        print(f"  Alpha Vantage calls: {sim_end['requests'] - sim_start['requests']} (throttled {sim_end['throttled'] - sim_start['throttled']})")
        print(f"  S3 requests: {len(s3)} {by_verb}; SES sends: {len(ses)}")
        print(f"  peak RSS per function process (MB): {', '.join(f'{p:.1f}' for p in function_peaks())}")


if __name__ == "__main__":
    for rate in [int(r) for r in sys.argv[1:]] or [1200, 6000]:
        measure(rate)
