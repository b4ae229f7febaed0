"""Starts the real components on 127.0.0.1 for the end-to-end tests and stops them after:
moto (S3, SES v2, Secrets Manager), the recording proxy in front of it (aws_recorder.py: every
AWS request of the function is recorded for the IAM check), the Alpha Vantage simulator,
`cargo lambda watch` running `stock-analysis-function`, and the invocation proxy the
function's lane invocations go through. The binaries are built beforehand by tests/run_all.sh (same features and target
dir), so watch does not compile on the first invoke."""

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
FUNCTION = "stock-analysis-function"
BUCKET = "stockpicks-e2e"
# The readers are an SES contact list with a topic, as the stack deploys it: three
# subscribed and one who left (opted out of the topic), who must never be mailed.
CONTACT_LIST = "stockpicks-e2e"
TOPIC = "weekly-picks"
READERS = ["reader1@example.com", "reader2@example.com", "reader3@example.com"]
LEFT = "left@example.com"
# The simulator's companies move with the date: it serves one fixed day, never today's.
SIM_DATE = "2026-11-30"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=120):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout}s")


@dataclass
class Stack:
    work: Path
    moto: int
    sim: int
    proxy: int
    watch: int
    aws_env: dict
    recorder: int = 0
    recording: Path = None
    procs: list = field(default_factory=list)
    logs: dict = field(default_factory=dict)
    _s3: object = None

    def aws(self, *args, endpoint=None, check=True):
        cmd = [str(BIN / "aws"), "--endpoint-url", endpoint or f"http://127.0.0.1:{self.moto}", *args]
        return subprocess.run(cmd, env=self.aws_env, capture_output=True, text=True, check=check, timeout=900)

    def invoke(self, payload, name="payload"):
        """`aws lambda invoke --function-name stock-analysis-function --payload file://...`,
        as the old protocol did; returns the function's response body."""
        if isinstance(payload, (str, Path)) and str(payload).endswith(".json"):
            path = Path(payload)
        else:
            path = self.work / f"{name}.json"
            path.write_text(json.dumps(payload))
        out = self.work / f"{name}.out.json"
        res = self.aws(
            "lambda", "invoke", "--function-name", FUNCTION, "--cli-read-timeout", "0",
            "--payload", f"file://{path}", str(out),
            endpoint=f"http://127.0.0.1:{self.watch}", check=False,
        )
        assert res.returncode == 0, f"invoke failed: {res.stderr}"
        meta = json.loads(res.stdout or "{}")
        body = json.loads(out.read_text() or "null")
        assert "FunctionError" not in meta, f"function error: {body}"
        return body

    def cli(self, *args, check=True):
        """The `stockpicks` CLI (the aws build) against moto's contact list, with the
        operator's credentials; straight to moto, not through the function's recorder."""
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
        env = dict(self.aws_env, SES_CONTACT_LIST=CONTACT_LIST, SES_CONTACT_TOPIC=TOPIC,
                   AWS_ENDPOINT_URL=f"http://127.0.0.1:{self.moto}")
        env.pop("EMAIL_RECIPIENT", None)
        res = subprocess.run([str(target / "stockpicks"), *args], env=env, capture_output=True, text=True, timeout=120, cwd=self.work)
        if check:
            assert res.returncode == 0, f"stockpicks {' '.join(args)}: exit {res.returncode}\n{res.stderr}"
        return res

    def moto_data(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.moto}/moto-api/data.json", timeout=30) as r:
            return json.load(r)

    def emails(self, run_id=None):
        """Raw messages SES accepted, optionally only those of one run."""
        ses = self.moto_data().get("ses", {})
        raws = []
        for kind in ("RawMessage", "Message"):
            for m in ses.get(kind, []):
                raw = m.get("raw_data") or m.get("body") or json.dumps(m)
                raws.append({"raw": raw, "destinations": m.get("destinations"), "source": m.get("source")})
        if run_id:
            raws = [m for m in raws if f"X-Stockpicks-Run: {run_id}" in m["raw"]]
        return raws

    def keys(self, prefix=""):
        res = self.aws("s3api", "list-objects-v2", "--bucket", BUCKET, "--prefix", prefix)
        return sorted(o["Key"] for o in json.loads(res.stdout or "{}").get("Contents", []))

    def get(self, key):
        """One object's bytes, through boto3 (installed with moto): an `aws` process per
        object took a second each, and the bucket holds hundreds of cache entries."""
        if self._s3 is None:
            import boto3

            self._s3 = boto3.client(
                "s3",
                endpoint_url=f"http://127.0.0.1:{self.moto}",
                region_name=self.aws_env["AWS_DEFAULT_REGION"],
                aws_access_key_id=self.aws_env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=self.aws_env["AWS_SECRET_ACCESS_KEY"],
            )
        return self._s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def set_delivery(self, mode):
        req = urllib.request.Request(f"http://127.0.0.1:{self.proxy}/mode", data=json.dumps({"mode": mode}).encode(), method="POST")
        urllib.request.urlopen(req, timeout=10).read()


@contextlib.contextmanager
def running_stack(work: Path, rate_per_min="30000", max_lanes="4", release=False):
    """Starts every component; yields a Stack; stops them all on exit. `release` runs the
    release builds (the benchmarks: bench/lambda_figures.py); the tests run the debug ones.
    Binaries come from CARGO_TARGET_DIR when set, else target/."""
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / ("release" if release else "debug")
    moto, sim, proxy, watch, recorder = free_port(), free_port(), free_port(), free_port(), free_port()
    aws_env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1",
                   AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1", AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true")
    s = Stack(work, moto, sim, proxy, watch, aws_env, recorder=recorder, recording=work / "aws-requests.jsonl")
    logs = s.logs

    def start(name, cmd, port, env=None, cwd=None):
        log = open(work / f"{name}.log", "w")
        logs[name] = work / f"{name}.log"
        p = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env or aws_env, cwd=cwd)
        s.procs.append(p)
        wait_port(port, p, name, timeout=300)
        return p

    try:
        start("moto", [sys.executable, str(Path(__file__).with_name("moto_server.py")), "-H", "127.0.0.1", "-p", str(moto)], moto)
        start("recorder", [sys.executable, str(Path(__file__).with_name("aws_recorder.py")), str(recorder), str(moto), str(s.recording)], recorder)
        start("sim", [str(target / "stockpicks"), "sim", "--port", str(sim), "--rate-per-min", "60000",
                      "--date", SIM_DATE], sim)
        s.aws("s3api", "create-bucket", "--bucket", BUCKET)
        s.aws("sesv2", "create-email-identity", "--email-identity", "example.com")
        topic = {"TopicName": TOPIC, "DisplayName": "Weekly stock picks", "Description": "The weekly top 25",
                 "DefaultSubscriptionStatus": "OPT_IN"}
        s.aws("sesv2", "create-contact-list", "--contact-list-name", CONTACT_LIST, "--topics", json.dumps([topic]))
        for address, status in [(r, "OPT_IN") for r in READERS] + [(LEFT, "OPT_OUT")]:
            s.aws("sesv2", "create-contact", "--contact-list-name", CONTACT_LIST, "--email-address", address,
                  "--topic-preferences", json.dumps([{"TopicName": TOPIC, "SubscriptionStatus": status}]))
        # The keys come from Secrets Manager, as in Lambda: Alpha Vantage's set, OpenAI's the
        # empty sentinel the stack creates (commentary off).
        secret_arn = {}
        for name, value in (("alpha-vantage-api-key", '{"api_key": "E2ETESTKEY0001"}'), ("openai-api-key", '{"api_key": ""}')):
            out = s.aws("secretsmanager", "create-secret", "--name", f"stockpicks/e2e/{name}", "--secret-string", value)
            secret_arn[name] = json.loads(out.stdout)["ARN"]
        env_file = work / "function.env"
        env_file.write_text("\n".join(f"{k}={v}" for k, v in {
            "S3_BUCKET": BUCKET,
            "EMAIL_SENDER": "picks@example.com",
            "SES_CONTACT_LIST": CONTACT_LIST,
            "SES_CONTACT_TOPIC": TOPIC,
            "ALPHA_VANTAGE_SECRET_ARN": secret_arn["alpha-vantage-api-key"],
            "OPENAI_SECRET_ARN": secret_arn["openai-api-key"],
            "ALPHA_VANTAGE_BASE_URL": f"http://127.0.0.1:{sim}",
            "ALPHA_VANTAGE_RATE_PER_MIN": rate_per_min,
            "MAX_PARALLEL_LANES": max_lanes,
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_ENDPOINT_URL_S3": f"http://127.0.0.1:{recorder}",
            "AWS_ENDPOINT_URL_SESV2": f"http://127.0.0.1:{recorder}",
            "AWS_ENDPOINT_URL_SECRETS_MANAGER": f"http://127.0.0.1:{recorder}",
            "AWS_ENDPOINT_URL_LAMBDA": f"http://127.0.0.1:{proxy}",
            "AWS_EC2_METADATA_DISABLED": "true",
            "FUNCTION_NAME": FUNCTION,
            "RUST_LOG": "info",
        }.items()) + "\n")
        start("watch", [str(BIN / "cargo-lambda"), "lambda", "watch", "-A", "127.0.0.1", "-P", str(watch), "--concurrency", "16",
                        "--ignore-changes", "--timeout", "900", "--features", "aws", "--bin", FUNCTION, "--env-file", str(env_file)]
              + (["--release"] if release else []),
              watch, env=dict(aws_env, PATH=f"{BIN}:{os.environ.get('PATH', '')}"), cwd=ROOT / "function")
        start("proxy", [sys.executable, str(Path(__file__).with_name("invoke_proxy.py")), str(proxy), str(watch), str(s.recording)], proxy)
        yield s
    finally:
        for p in reversed(s.procs):
            p.terminate()
        for p in s.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        if os.environ.get("E2E_SHOW_LOGS"):
            for name, path in logs.items():
                print(f"==== {name}\n{path.read_text()[-5000:]}")


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("e2e")) as s:
        yield s
