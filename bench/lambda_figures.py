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

import datetime
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


def timeline(lines, t0, rate, lanes):
    """Where the time outside the quota goes, from the function's JSON logs (watch.log):
    seconds from the invoke to each step, and the gaps between a lane's chunks beyond their
    quota time."""
    events = []
    for line in lines:
        m = re.search(r"\{.*\}", line)
        if not m:
            continue
        try:
            rec = json.loads(m.group(0))
            ts = datetime.datetime.fromisoformat(rec["timestamp"].replace("Z", "+00:00")).timestamp()
        except (ValueError, KeyError):
            continue
        events.append((ts - t0, rec.get("fields", {})))
    if not events:
        return
    def first(msg):
        return next(((t, f) for t, f in events if f.get("message") == msg), (None, None))
    launched, _ = first("chunks_launched")
    chunks = [(t, f) for t, f in events if f.get("message") == "Chunk complete"]
    cleaned, cf = first("S3 chunks cleaned up")
    print(f"  timeline (s from the invoke): first function log {events[0][0]:.2f}, chunks_launched {launched and round(launched, 2)}, "
          f"last log {events[-1][0]:.2f}")
    per_lane = {}
    for t, f in chunks:
        per_lane.setdefault(f.get("lane"), []).append((t, f.get("symbols", 0)))
    rate_per_lane = rate / max(lanes, 1)
    for lane, cs in sorted(per_lane.items(), key=lambda x: str(x[0])):
        # A chunk's "Chunk complete" is logged once its write settled, which overlaps the
        # next chunk's fetch; so the lane's fetching began at the latest at its last log
        # minus the quota time of all its chunks (no gaps), and any gap counts as lane start.
        quota = sum(n * 60 / rate_per_lane for _, n in cs)
        print(f"  lane {lane}: {len(cs)} chunks, last written at {cs[-1][0]:.2f}; quota time {quota:.2f} s, "
              f"so fetching began at the latest at {cs[-1][0] - quota:.2f}")
    if cleaned is not None:
        last_chunk = max(t for t, _ in chunks) if chunks else None
        print(f"  aggregation: {cf.get('ms')} ms by its own clock (lock to clean-up), last chunk -> cleaned up "
              f"{cleaned - last_chunk if last_chunk is not None else float('nan'):.2f} s; cleaned up at {cleaned:.2f}")


def measure(rate):
    with tempfile.TemporaryDirectory() as d, running_stack(Path(d), rate_per_min=str(rate), max_lanes="10", release=True) as s:
        s.invoke(ROOT / "tests/payloads/test_payload.json", "warm")  # first-invoke start-up excluded
        moto_log = s.logs["moto"]
        moto_start = len(moto_log.read_text().splitlines())
        watch_log = s.logs["watch"]
        watch_start = len(watch_log.read_text(errors="replace").splitlines())
        sim_start = get_json(f"http://127.0.0.1:{s.sim}/sim/stats")
        proxy_start = len(get_json(f"http://127.0.0.1:{s.proxy}/log"))
        # The fixed cost of `aws lambda invoke` itself (the CLI's start, watch's dispatch):
        # an event the function refuses without I/O, timed the same way.
        t_refused = time.time()
        s.invoke({"op": "no-such-op"}, "refused")
        refused = time.time() - t_refused
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
        calls = sim_end["requests"] - sim_start["requests"]
        bound = 500 / (rate / 60)  # the payload's 500 symbols, one call each (as before)
        if calls != 500:
            print(f"  ({calls} API calls: bound by calls {calls * 60 / rate:.2f} s)")
        print(f"quota {rate}/min: status {out['status']}, mode {out.get('mode')}, lanes {out.get('lanes')}")
        print(f"  wall {wall:.2f} s vs quota bound {bound:.2f} s (ratio {wall / bound:.3f}); fixed overhead {wall - bound:.2f} s, "
              f"of which {refused:.2f} s is one `aws lambda invoke` round trip of a refused event (CLI start + dispatch)")
        print(f"  invocations: 1 run + {len(lanes)} lane (async) = {1 + len(lanes)}")
        print(f"  Alpha Vantage calls: {sim_end['requests'] - sim_start['requests']} (throttled {sim_end['throttled'] - sim_start['throttled']})")
        print(f"  S3 requests: {len(s3)} {by_verb}; SES sends: {len(ses)}")
        print(f"  peak RSS per function process (MB): {', '.join(f'{p:.1f}' for p in function_peaks())}")
        timeline(watch_log.read_text(errors="replace").splitlines()[watch_start:], t0, rate, out.get("lanes") or 1)


if __name__ == "__main__":
    for rate in [int(r) for r in sys.argv[1:]] or [1200, 6000]:
        measure(rate)
