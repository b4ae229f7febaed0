"""Runs last (file order): every AWS request the function made during the end-to-end tests,
as IAM requests, must be listed in contracts/aws-requests.json, which the infra IAM
simulation (infra/test/iam-simulation.test.ts) evaluates against the synthesized policies.
A request the code makes that the list lacks fails here; one the template does not allow
fails there. The recording is also kept at target/e2e/aws-requests.json for inspection."""

import json
import shutil

from aws_requests import load_recording, shape_key
from conftest import BUCKET, CONTACT_LIST, ROOT


def test_a_sweep_reports_the_report_age_and_unconfirmed_email_locks(stack):
    # A reader claimed long ago and never marked (an aggregator died between send and mark).
    lock = stack.work / "old.lock"
    lock.write_text("0")
    stack.aws("s3api", "put-object", "--bucket", BUCKET, "--key", "runs/crashed-e2e/email/0123456789abcdef.lock", "--body", str(lock))
    out = stack.invoke({"op": "sweep"}, "sweep")
    assert out["status"] == "swept", out
    assert out["emails_unconfirmed"] == 1, out
    assert 0 <= out["report_age_hours"] < 1, out


def test_every_emitted_metric_is_in_the_contract(stack):
    contract = json.loads((ROOT / "contracts/contract.json").read_text())
    names, dims = set(), set()
    for line in stack.logs["watch"].read_text().splitlines():
        start = line.find("{")
        if start < 0 or '"_aws"' not in line:
            continue
        try:
            emf = json.loads(line[start:])
        except ValueError:
            continue
        if not isinstance(emf, dict) or "_aws" not in emf:
            continue
        for cw in emf["_aws"]["CloudWatchMetrics"]:
            assert cw["Namespace"] == contract["namespace"]
            dims.update(tuple(d) for d in cw["Dimensions"])
            names.update(x["Name"] for x in cw["Metrics"])
    assert {"EmailsSent", "RunSucceeded", "EmailsUnconfirmed", "ReportAgeHours"} <= names, names
    assert names <= set(contract["metrics"]), names - set(contract["metrics"])
    assert dims == {tuple(contract["dimensions"])}, dims


def test_every_aws_request_of_the_function_is_in_the_iam_contract(stack):
    recorded = load_recording(stack.recording, BUCKET, "picks@example.com", CONTACT_LIST)
    out = ROOT / "target/e2e"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(stack.recording, out / "aws-requests.jsonl")
    (out / "aws-requests.json").write_text(json.dumps({k: n for k, n in sorted(recorded.items())}, indent=1))
    contract = json.loads((ROOT / "contracts/aws-requests.json").read_text())
    listed = {shape_key(r) for r in contract["principals"]["function"]["requests"]}
    missing = sorted(set(recorded) - listed)
    assert not missing, "requests the code made that contracts/aws-requests.json lacks:\n" + "\n".join(missing)
    # The recording must cover the paths the tests drive, or the check above means little.
    actions = {json.loads(k)["action"] for k in recorded}
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "ses:SendEmail", "ses:GetEmailIdentity", "ses:ListContacts",
            "secretsmanager:GetSecretValue", "lambda:InvokeFunction"} <= actions, actions
    unseen = sorted(listed - set(recorded))
    print(f"\n{len(recorded)} request shapes recorded ({sum(recorded.values())} requests); "
          f"listed but not driven by the end-to-end tests: {len(unseen)}")
    for u in unseen:
        print("  ", u)
