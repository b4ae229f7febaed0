#!/usr/bin/env python3
"""Before/after figures of tests/recorded_runs.sh: the validity rules that fired on the
recorded replies (and what the earlier code did with those values), the ranks that moved, and
the top 25 of the mixed run.

    python3 tests/recorded_summary.py OUT_BEFORE OUT_AFTER
"""
import json
import re
import sys
from pathlib import Path

FIELD_FACTOR = {
    "EPS": "earnings_yield", "DilutedEPSTTM": "earnings_yield", "ProfitMargin": "profit_margin",
    "OperatingMarginTTM": "operating_margin", "ReturnOnEquityTTM": "roe", "ReturnOnAssetsTTM": "roa",
    "QuarterlyEarningsGrowthYOY": "earnings_growth", "QuarterlyRevenueGrowthYOY": "revenue_growth",
    "EVToEBITDA": "ebitda_ev", "AnalystTargetPrice": "target_upside",
}


def load(root, run):
    return json.loads((Path(root) / run / "results.json").read_text())


def by_symbol(r):
    return {p["symbol"]: p for p in r["ranking"]}


def unranked(r):
    return {u["symbol"]: u["reason"] for u in r["unranked"]}


def fmt(v):
    return "null" if v is None else f"{v:g}"


def rules_fired(before, after):
    print("## Validity rules that fired on the recorded replies (recorded-only run)\n")
    print("| symbol | field | value | rule | before: factor value / percentile |")
    print("|---|---|---|---|---|")
    b = by_symbol(before)
    for p in sorted(after["ranking"], key=lambda p: p["symbol"]):
        for rej in p.get("rejected", []):
            factor = FIELD_FACTOR.get(rej["field"], "?")
            old = b.get(p["symbol"], {}).get("factors", {}).get(factor, {})
            print(f"| {p['symbol']} | {rej['field']} | {fmt(rej['value'])} | {rej['rule']} | "
                  f"{factor} {fmt(old.get('value'))} / {fmt(old.get('percentile'))} |")
    for sym, reason in sorted(unranked(after).items()):
        for m in re.finditer(r"(\w+) \((\w+) (-?[\d.e]+) set aside: ([^)]*)\)", reason):
            print(f"| {sym} (unranked) | {m.group(2)} | {m.group(3)} | {m.group(4)} | {m.group(1)} |")
    print()


def ranks(before, after, title, only=None):
    b, a = by_symbol(before), by_symbol(after)
    ub, ua = unranked(before), unranked(after)
    syms = sorted(set(b) | set(a) | set(ub) | set(ua))
    if only is not None:
        syms = [s for s in syms if s in only]
    print(f"## {title}\n")
    print("| symbol | before rank | before score | before peers | after rank | after score | after peers | move |")
    print("|---|---|---|---|---|---|---|---|")
    moved = 0
    for s in syms:
        def cells(m, u):
            if s in m:
                p = m[s]
                return str(p["rank"]), f"{p['score']:.2f}", p["sector"]
            return "unranked", "-", (u.get(s, "-")[:60])
        br, bs, bp = cells(b, ub)
        ar, as_, ap = cells(a, ua)
        move = "-"
        if br.isdigit() and ar.isdigit():
            d = int(br) - int(ar)
            move = f"{d:+d}" if d else "0"
        elif br != ar:
            move = "in/out"
        if move != "0":
            moved += 1
        print(f"| {s} | {br} | {bs} | {bp} | {ar} | {as_} | {ap} | {move} |")
    print(f"\n{moved} of {len(syms)} symbols changed rank or ranked status.\n")


def index_moves(before, after, recorded):
    b, a = by_symbol(before), by_symbol(after)
    both = [s for s in a if s in b and s not in recorded]
    deltas = sorted(((b[s]["rank"] - a[s]["rank"], s) for s in both), key=lambda x: -abs(x[0]))
    moved = [d for d in deltas if d[0] != 0]
    print(f"S&P 500 symbols (simulated) ranked in both: {len(both)}; rank changed: {len(moved)}; "
          f"largest moves: {', '.join(f'{s} {d:+d}' for d, s in moved[:10])}\n")


def top25(r, title):
    print(f"### {title}\n")
    print("| rank | symbol | score | sector | reasons |")
    print("|---|---|---|---|---|")
    for p in r["picks"][:25]:
        print(f"| {p['rank']} | {p['symbol']} | {p['score']:.2f} | {p['sector']} | {'; '.join(p['reasons'])} |")
    print()


def main():
    before, after = sys.argv[1], sys.argv[2]
    rb, ra = load(before, "recorded"), load(after, "recorded")
    mb, ma = load(before, "mixed"), load(after, "mixed")
    recorded = {p["symbol"] for p in rb["ranking"]} | set(unranked(rb))
    rules_fired(rb, ra)
    ranks(rb, ra, "Ranks, recorded replies alone (18 symbols)")
    ranks(mb, ma, "Ranks of the recorded symbols in the mixed run (S&P 500 simulated + recorded)", only=recorded)
    index_moves(mb, ma, recorded)
    print("## Top 25 of the mixed run\n")
    top25(mb, "before")
    top25(ma, "after")
    bt = [p["symbol"] for p in mb["picks"][:25]]
    at = [p["symbol"] for p in ma["picks"][:25]]
    print(f"Left the top 25: {', '.join(s for s in bt if s not in at) or 'none'}; "
          f"joined: {', '.join(s for s in at if s not in bt) or 'none'}")


if __name__ == "__main__":
    main()
