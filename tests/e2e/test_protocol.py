"""The old system's testing protocol, run against real emulators: `aws lambda invoke` on
`stock-analysis-function` under `cargo lambda watch`, S3 and SES in moto, Alpha Vantage
from the simulator. Each scenario checks the emails SES accepted and what the bucket holds."""

import base64
import email
import json
import re
from concurrent.futures import ThreadPoolExecutor

from conftest import READERS, ROOT

PAYLOADS = ROOT / "tests/payloads"


def decoded_parts(raw):
    msg = email.message_from_string(raw)
    return msg, {p.get_content_type(): p.get_payload(decode=True) for p in msg.walk() if not p.is_multipart()}


def check_report_email(stack, run_id, picks_at_least=1):
    mails = stack.emails(run_id)
    assert len(mails) == len(READERS), f"{run_id}: {len(mails)} emails"
    to = sorted(re.search(r"^To: (.+)$", m["raw"], re.M).group(1).strip() for m in mails)
    assert to == sorted(READERS), "one message per reader, each to that reader only"
    msg, parts = decoded_parts(mails[0]["raw"])
    # Sent through the contact list: SES adds the one-click List-Unsubscribe headers and
    # the link, so the message carries none of its own, and says where the link is.
    assert msg["List-Unsubscribe"] is None, msg["List-Unsubscribe"]
    assert "unsubscribe link at the end of this message" in parts["text/plain"].decode()
    html = parts["text/html"].decode()
    assert html.count('class="pick"') >= picks_at_least
    assert "not investment advice" in html
    csv = parts["text/csv"].decode()
    assert csv.startswith("rank,symbol,company,sector,score")
    return msg, parts


def test_15_symbols_run_in_one_invocation(stack):
    out = stack.invoke(PAYLOADS / "test_payload.json")
    assert out["status"] == "complete" and out["mode"] == "single", out
    run_id = out["run_id"]
    msg, _ = check_report_email(stack, run_id, picks_at_least=15)
    assert "[SYNTHETIC]" in msg["Subject"], "simulator data is labelled"
    assert not stack.keys(f"runs/{run_id}/chunks/")
    assert any(k.endswith(f"{run_id}/results.json") for k in stack.keys("reports/"))


def distributed(stack, payload_file, n):
    out = stack.invoke(PAYLOADS / payload_file)
    assert out["status"] == "started" and out["mode"] == "distributed", out
    run_id = out["run_id"]
    assert out["lanes"] >= 2
    check_report_email(stack, run_id, picks_at_least=25)
    assert not stack.keys(f"runs/{run_id}/chunks/"), "chunk files cleaned up"
    assert stack.keys(f"runs/{run_id}/done.json")
    results_key = next(k for k in stack.keys("reports/") if k.endswith(f"{run_id}/results.json"))
    results = json.loads(stack.get(results_key))
    assert results["universe_size"] == n
    assert results["coverage"]["ratio"] > 0.95
    return run_id


def test_150_symbols_fan_out_and_meet_once(stack):
    distributed(stack, "payload_150.json", 150)


def test_500_symbols_fan_out_and_meet_once(stack):
    distributed(stack, "payload_500.json", 500)


def test_every_chunk_event_twice_sends_once(stack):
    stack.set_delivery("twice")
    try:
        run_id = distributed(stack, "payload_150.json", 150)
    finally:
        stack.set_delivery("once")
    # A late duplicate changes nothing and re-creates nothing.
    late = stack.invoke({"op": "lane", "run_id": run_id, "lane": 0, "chunks": [0], "depth": 1}, "late")
    assert late["status"] == "already_done"
    assert not stack.keys(f"runs/{run_id}/chunks/")
    assert len(stack.emails(run_id)) == len(READERS)


def test_a_lane_that_dies_is_finalized_as_partial(stack):
    stack.set_delivery("drop_lane_1")
    try:
        out = stack.invoke(PAYLOADS / "payload_150.json")
    finally:
        stack.set_delivery("once")
    run_id = out["run_id"]
    assert stack.emails(run_id) == [], "cannot finish without lane 1"
    # The old protocol's finalize call (the sweep does the same once the deadline passes).
    swept = stack.invoke({"operation": "finalize_results", "run_id": run_id}, "finalize")
    assert swept["finalized"][0]["run_id"] == run_id
    msg, parts = check_report_email(stack, run_id)
    assert msg["Subject"].startswith("PARTIAL:")
    text = parts["text/plain"].decode()
    assert text.startswith("PARTIAL REPORT:")
    results_key = next(k for k in stack.keys("reports/") if k.endswith(f"{run_id}/results.json"))
    results = json.loads(stack.get(results_key))
    missing = [u for u in results["unranked"] if "not fetched" in u["reason"]]
    assert len(missing) == 50, "lane 1's chunk of 50 is named, symbol by symbol"


def test_two_runs_at_once_are_isolated(stack):
    payload = json.loads((PAYLOADS / "payload_150.json").read_text())
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda i: stack.invoke({"op": "run", "symbols": payload["test_symbols"], "run_id": f"iso-{i}"}, f"iso{i}"), [1, 2])
    assert {a["run_id"], b["run_id"]} == {"iso-1", "iso-2"}
    for run_id in ("iso-1", "iso-2"):
        check_report_email(stack, run_id)
        assert stack.keys(f"runs/{run_id}/done.json")
        assert any(k.endswith(f"{run_id}/results.json") for k in stack.keys("reports/"))


def test_a_redelivered_schedule_event_does_not_run_twice(stack):
    event = {"op": "run", "symbols": ["AAPL", "MSFT", "KO", "PEP", "XOM"], "scheduled_time": "2026-11-30T13:00:00Z"}
    first = stack.invoke(event, "sched1")
    assert first["run_id"] == "sched-20261130T1300Z" and first["status"] == "complete"
    second = stack.invoke(event, "sched2")
    assert second["status"] == "duplicate"
    assert len(stack.emails("sched-20261130T1300Z")) == len(READERS)


def test_a_dry_run_sends_nothing_and_leaves_nothing(stack):
    before, mails = stack.keys(), len(stack.emails())
    out = stack.invoke({"op": "run", "universe": "sp500", "dry_run": True}, "dry")
    assert out["status"] == "dry_run_ok", out
    assert out["checks"] == {"config": "ok", "bucket": "ok", "email_identity": "ok", "api": "ok", "readers": "ok"}
    assert out["readers"] == len(READERS), "the dry run reads the contact list: who a real run would mail"
    assert stack.keys() == before
    assert len(stack.emails()) == mails


def test_bad_events_are_refused_without_a_function_error(stack):
    before, mails = stack.keys(), len(stack.emails())
    for i, event in enumerate([
        {"hello": "world"},
        {"op": "explode"},
        {"op": "run", "symbols": ["AAPL&function=X", "../x"]},
        {"op": "run", "run_id": "../../etc"},
        {"op": "lane", "run_id": "no-such-run", "lane": 0, "chunks": [0]},
        {"operation": "process_chunk"},
        [1, 2, 3],
    ]):
        out = stack.invoke(event, f"bad{i}")
        assert out["status"] == "refused" and out["error"], out
    assert stack.keys() == before
    assert len(stack.emails()) == mails


def test_the_api_key_never_reaches_the_bucket_or_mail(stack):
    for key in stack.keys():
        assert b"E2ETESTKEY0001" not in stack.get(key), key
    for m in stack.emails():
        assert "E2ETESTKEY0001" not in m["raw"]


def test_a_dead_aggregators_lock_is_taken_over_with_if_match(stack):
    lock = stack.work / "lock.json"
    lock.write_text(json.dumps({"owner": "dead-aggregator", "acquired_at": 0}))  # long past the lease
    stack.aws("s3api", "put-object", "--bucket", "stockpicks-e2e", "--key", "runs/stale-e2e/aggregate.lock", "--body", str(lock))
    payload = json.loads((PAYLOADS / "payload_150.json").read_text())
    out = stack.invoke({"op": "run", "symbols": payload["test_symbols"], "run_id": "stale-e2e"}, "stale")
    assert out["run_id"] == "stale-e2e"
    check_report_email(stack, "stale-e2e")
    taken = json.loads(stack.get("runs/stale-e2e/aggregate.lock"))
    assert taken["owner"] != "dead-aggregator"
    assert not stack.keys("runs/stale-e2e/chunks/")
