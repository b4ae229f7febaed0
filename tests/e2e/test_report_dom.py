"""The weekly report as a mail client's engine draws it: `stockpicks run` (the built binary,
the built-in simulator) twice, so the second report has changes and a track record; then
headless Chromium (Debian's `chromium`, installed by tests/run_all.sh) loads report.html,
and the rendered DOM (`--dump-dom`) must hold every pick's row with its grade chips, the
coverage line, the sections, and no script; a screenshot is taken as well."""

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STOCKPICKS = ROOT / "target" / "debug" / "stockpicks"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]


def chromium():
    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("chromium is not installed (tests/run_all.sh installs Debian's chromium)")
    return path


class Dom(HTMLParser):
    """Elements with their classes and ids, and the text under each id."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.stack = []
        self.text_by_id = {}
        self.rows = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "tr" and "pick" in (a.get("class") or "").split():
            self.rows.append([])
        if tag in ("br", "meta", "img", "hr", "input", "link"):
            return
        self.stack.append((tag, a.get("id")))

    def handle_endtag(self, tag):
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        for _, ident in self.stack:
            if ident:
                self.text_by_id[ident] = self.text_by_id.get(ident, "") + data
        if self.rows and any(t == "tr" for t, _ in self.stack):
            self.rows[-1].append(data)

    def count(self, tag, cls=None):
        return sum(1 for t, a in self.tags if t == tag and (cls is None or cls in (a.get("class") or "").split()))


def run_stockpicks(work, name, sim_date):
    env = {"PATH": os.environ["PATH"], "HOME": str(work)}
    out = subprocess.run(
        [str(STOCKPICKS), "run", "--out", f"out/{name}", "--history", "out/history", "--sim-date", sim_date],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    return work / "out" / name


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    assert STOCKPICKS.exists(), "build first: cargo build --features aws --bins (tests/run_all.sh does)"
    work = tmp_path_factory.mktemp("report")
    # Two weekly runs a week apart, on fixed dates: the simulator's companies move with the
    # date, so nothing here may depend on today's.
    first = run_stockpicks(work, "r1", "2026-11-23")
    second = run_stockpicks(work, "r2", "2026-11-30")
    return work, first, second


def dump_dom(html_file, work):
    out = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={work / 'chromium-profile'}", "--dump-dom", html_file.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "<html" in out.stdout, out.stderr[-2000:]
    dom = Dom()
    dom.feed(out.stdout)
    return dom


def test_rendered_report_has_every_pick_chips_and_coverage(reports):
    work, _, second = reports
    results = json.loads((second / "results.json").read_text())
    dom = dump_dom(second / "report.html", work)

    picks = results["picks"]
    assert len(picks) == 25
    assert dom.count("tr", "pick") == len(picks)
    for row, pick in zip(dom.rows, picks):
        text = " ".join(row)
        assert pick["symbol"] in text and pick["name"] in text, (pick["symbol"], text[:200])
        assert f"{pick['score']:.1f}" in text
    groups = len(picks[0]["grades"])
    assert dom.count("span", "chip") == len(picks) * groups

    coverage = dom.text_by_id["coverage"]
    scored, universe = results["coverage"]["scored"], results["coverage"]["universe"]
    assert f"Coverage: {scored} of {universe} symbols scored" in coverage, coverage
    assert "fetched " + results["data_date"]["fetched"] in coverage
    assert "SYNTHETIC" in dom.text_by_id["synthetic"]

    # Week over week, sector mix and track record are there (the second run has history).
    assert results["changes"]["previous_run"]
    assert "New (" in dom.text_by_id["new-entries"] and "Dropped out (" in dom.text_by_id["drop-outs"]
    assert dom.count("tr", "sector") == len({p["sector"] for p in results["ranking"]})
    assert dom.count("tr", "track") == len(results["track_record"]) >= 1
    assert "Reasons: rule-based reasons" in dom.text_by_id["commentary-source"]

    # Email-safe: no scripts, no SVG, no external resources.
    assert dom.count("script") == 0 and dom.count("svg") == 0
    assert not any(a.get("src") for _, a in dom.tags)


def test_screenshot_renders(reports):
    work, _, second = reports
    shot = work / "report.png"
    out = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={work / 'chromium-profile-shot'}", "--window-size=1000,1800",
         f"--screenshot={shot}", (second / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000


def test_report_stays_under_gmails_clipping_size(reports):
    _, _, second = reports
    assert (second / "report.html").stat().st_size < 100 * 1024
