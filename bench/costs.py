"""GB-seconds and dollars per weekly run at each Alpha Vantage quota tier, from measured
figures, beside the old Python system's published ones.

    python3 bench/costs.py [--efficiency E] [--overhead S] [--cold N] [--warm-quiet N] [--warm-season N]

The quota binds: a run's Lambda time is its calls / quota x the measured efficiency
(wall / quota bound, bench/run.sh) plus a fixed overhead (ranking, rendering, S3, SES).
Lanes are chosen to saturate the quota and no more (one lane does MAX_WORKERS / latency =
20 requests/s, above every tier up to 1200/min), so one lane's time is the run's time.
Prices: AWS Lambda arm64 in us-east-1, $0.0000133334 per GB-s and $0.20 per million
requests; S3 Standard $0.005 per 1,000 PUT and $0.0004 per 1,000 GET; SES $0.10 per 1,000
messages. Not a test: nothing is asserted."""

import argparse

GB_S = 0.0000133334
REQ = 0.20 / 1e6
S3_PUT = 0.005 / 1000
S3_GET = 0.0004 / 1000
SES = 0.10 / 1000
MEMORY_GB = 1.0  # 1024 MB

# The cache's S3 requests (PUT, GET) of one 500-symbol run, one lane, chunks of 50, as
# measured by the lane test through fetch_cached on a counting ObjectStore:
#   cargo test -p stockpicks --test it cache::lanes_cost -- --nocapture
# (one shard object per first letter, read and written once per chunk; plus the
# entitlement record, read once per chunk). The run state (manifest, chunks, locks,
# reports, history: ~20 PUT, ~30 GET) is bench/lambda_figures.py's count without the cache.
CACHE_S3 = {"cold": (34, 44), "quiet": (18, 44), "season": (33, 44)}

OLD = {"secs_per_50": 512.9, "memory_mb": 90, "package_mb": 46, "usd_per_500": 0.15}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--efficiency", type=float, default=1.01, help="measured wall / quota bound")
    p.add_argument("--overhead", type=float, default=3.6,
                   help="seconds outside the fetch: measured 3.6 s for a one-lane 500-symbol run under cargo lambda watch + moto "
                        "(debug build; BENCHMARKS.md), an upper bound for real Lambda")
    p.add_argument("--cold", type=int, default=510, help="calls of a cold run (calendar, bulk, 503 OVERVIEW); bench_calls measures it")
    p.add_argument("--warm-quiet", type=int, default=31, help="calls of a warm run, quiet week, bulk quotes")
    p.add_argument("--warm-season", type=int, default=183, help="calls of a warm run, earnings season, bulk quotes")
    p.add_argument("--readers", type=int, default=1)
    a = p.parse_args()

    def run_cost(calls, rate, cache_s3):
        secs = calls * 60 / rate * a.efficiency + a.overhead
        gbs = secs * MEMORY_GB
        invocations = 3  # run + lane + (continuation or sweep) at most for one lane
        put, get = cache_s3
        s3 = put * S3_PUT + get * S3_GET + 20 * S3_PUT + 30 * S3_GET  # cache + run state
        usd = gbs * GB_S + invocations * REQ + s3 + a.readers * SES
        return secs, gbs, usd

    print(f"1024 MB arm64; efficiency {a.efficiency:.3f}, overhead {a.overhead:.1f} s; calls: cold {a.cold}, "
          f"warm quiet {a.warm_quiet}, warm season {a.warm_season}")
    print(f"{'quota/min':>9} | {'cold: s':>8} {'GB-s':>7} {'$':>8} | {'warm quiet: s':>13} {'GB-s':>6} {'$':>8} | {'warm season: s':>14} {'GB-s':>6} {'$':>8}")
    for rate in [75, 150, 300, 600, 1200]:
        c = run_cost(a.cold, rate, CACHE_S3["cold"])
        q = run_cost(a.warm_quiet, rate, CACHE_S3["quiet"])
        s = run_cost(a.warm_season, rate, CACHE_S3["season"])
        print(f"{rate:>9} | {c[0]:>8.1f} {c[1]:>7.1f} {c[2]:>8.5f} | {q[0]:>13.1f} {q[1]:>6.1f} {q[2]:>8.5f} | {s[0]:>14.1f} {s[1]:>6.1f} {s[2]:>8.5f}")
    old_secs = OLD["secs_per_50"] * 10
    print(f"old Python system (published): {OLD['secs_per_50']} s for 50 stocks (~{old_secs:.0f} s for 500 at that pace), "
          f"{OLD['memory_mb']} MB, {OLD['package_mb']} MB package, about ${OLD['usd_per_500']:.2f} per 500-stock run")


if __name__ == "__main__":
    main()
