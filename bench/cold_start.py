"""Cold start of the Lambda binary: process start to the first event handled.

    python3 bench/cold_start.py [BINARY] [RUNS]

Serves the Lambda Runtime API (next invocation, response) on 127.0.0.1 itself, starts the
binary RUNS times (default 30) with the environment Lambda gives it, hands it one event,
and times from the spawn to the moment its response arrives. The event is one the function
answers without I/O (an unknown `op`, refused), so the figure is the runtime's start, our
configuration and client set-up, and the first dispatch; the key comes from the
environment (in AWS the first Secrets Manager read adds one network round trip, see
BENCHMARKS.md). Not a test: nothing is asserted."""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENT = json.dumps({"op": "benchmark-cold-start"}).encode()


class Runtime(BaseHTTPRequestHandler):
    served = threading.Event()
    responded = threading.Event()
    response = b""

    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path.endswith("/runtime/invocation/next"):
            if Runtime.served.is_set():
                time.sleep(5)  # one event per process; it is killed meanwhile
                return
            Runtime.served.set()
            self.send_response(200)
            self.send_header("Lambda-Runtime-Aws-Request-Id", "bench-1")
            self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000))
            self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:stockpicks-bench")
            self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000")
            self.send_header("Content-Length", str(len(EVENT)))
            self.end_headers()
            self.wfile.write(EVENT)
        else:
            self.send_response(404)
            self.end_headers()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        Runtime.response = body
        Runtime.responded.set()
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    binary = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target/x86_64-unknown-linux-gnu/release/stock-analysis-function"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_FUNCTION_NAME": "stockpicks-bench",
        "AWS_LAMBDA_FUNCTION_VERSION": "1",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/stockpicks-bench",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "S3_BUCKET": "stockpicks-bench",
        "EMAIL_SENDER": "picks@example.com",
        "EMAIL_RECIPIENT": "reader@example.com",
        "ALPHA_VANTAGE_API_KEY": "benchkey",
    }
    times = []
    for _ in range(runs):
        # A fresh Runtime API per process, so a killed process's next poll cannot take the event.
        server = ThreadingHTTPServer(("127.0.0.1", 0), Runtime)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{server.server_address[1]}"
        Runtime.served.clear()
        Runtime.responded.clear()
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(binary)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not Runtime.responded.wait(20):
            proc.kill()
            raise SystemExit("no response within 20 s")
        times.append((time.perf_counter() - t0) * 1000)
        proc.kill()
        proc.wait()
        server.shutdown()
        server.server_close()
    body = json.loads(Runtime.response)
    times.sort()
    print(f"cold start ({binary.name}, {runs} runs): median {statistics.median(times):.1f} ms, "
          f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, min {times[0]:.1f} ms, max {times[-1]:.1f} ms; reply {body.get('status')}")


if __name__ == "__main__":
    main()
