"""A Lambda Invoke endpoint in front of `cargo lambda watch` that delivers asynchronous
invocations the way Lambda may: once, twice at the same time, or not at all (a lane that
dies). Synchronous invocations pass through unchanged. The function's lane invocations go
through it (AWS_ENDPOINT_URL_LAMBDA); the tests set the mode with POST /mode.

Run: python invoke_proxy.py LISTEN_PORT WATCH_PORT [RECORDING_FILE]
With a recording file, each invocation request is appended to it as aws_recorder.py does.
"""

import json
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MODE = {"mode": "once"}  # once | twice | drop_lane_1
LOG = []
RECORDING_LOCK = threading.Lock()


def forward(watch, path, body, headers):
    req = urllib.request.Request(f"http://127.0.0.1:{watch}{path}", data=body, method="POST")
    for k, v in headers.items():
        if k.lower() in ("content-type", "x-amz-invocation-type", "x-amz-log-type"):
            req.add_header(k, v)
    with urllib.request.urlopen(req, timeout=900) as resp:
        return resp.status, resp.read()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/log":
            return self.reply(200, json.dumps(LOG).encode())
        self.reply(404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path == "/mode":
            MODE["mode"] = json.loads(body)["mode"]
            return self.reply(200, b"{}")
        asynchronous = self.headers.get("X-Amz-Invocation-Type") == "Event"
        try:
            event = json.loads(body or b"{}")
        except ValueError:
            event = None
        LOG.append({"async": asynchronous, "event": event})
        if self.server.recording:
            with RECORDING_LOCK, open(self.server.recording, "a") as f:
                f.write(json.dumps({"method": "POST", "path": self.path, "headers": {}}) + "\n")
        if not asynchronous:
            status, out = forward(self.server.watch, self.path, body, self.headers)
            return self.reply(status, out)
        mode = MODE["mode"]
        copies = 1
        if mode == "twice":
            copies = 2
        elif mode == "drop_lane_1" and isinstance(event, dict) and event.get("op") == "lane" and event.get("lane") == 1:
            copies = 0
        threads = [threading.Thread(target=forward, args=(self.server.watch, self.path, body, dict(self.headers))) for _ in range(copies)]
        for t in threads:
            t.start()
        # Like Lambda: accepted (202) once queued. cargo lambda watch runs events to the end,
        # so waiting here keeps "the run invocation returned" meaning "its lanes finished".
        for t in threads:
            t.join()
        self.reply(202)


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.watch = int(sys.argv[2])
    server.recording = sys.argv[3] if len(sys.argv) > 3 else None
    print("proxy ready", flush=True)
    server.serve_forever()
