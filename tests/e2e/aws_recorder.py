"""A recording reverse proxy in front of moto: the function's S3, SES v2 and Secrets Manager
requests go through it (AWS_ENDPOINT_URL_S3 / _SESV2 / _SECRETS_MANAGER), so the end-to-end
tests see every AWS request the code really makes. Each request is appended, one JSON line
each, to the recording file, then forwarded unchanged. The tests' own requests (creating the
bucket, reading objects) go to moto directly and are not recorded.

aws_requests.py turns the recording into IAM requests (action, resource, context), which
test_zz_aws_requests.py checks against contracts/aws-requests.json, the list the infra IAM
simulation evaluates against the synthesized policies.

Run: python aws_recorder.py LISTEN_PORT MOTO_PORT RECORDING_FILE
"""

import http.client
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
# Request headers that decide the IAM action (conditional writes, JSON protocol targets).
KEPT = ("x-amz-target", "if-match", "if-none-match", "content-type")
JSON_FIELDS = ("FromEmailAddress", "ConfigurationSetName", "SecretId", "ListManagementOptions")
HOP = ("connection", "keep-alive", "transfer-encoding", "content-length")


def read_body(handler):
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        out = b""
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return out
            out += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length", "0")))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        body = read_body(self)
        record = {
            "method": self.command,
            "path": self.path,
            "headers": {k.lower(): v for k, v in self.headers.items() if k.lower() in KEPT},
        }
        # JSON bodies (SES v2, Secrets Manager) name the sender, the configuration set and the
        # secret, and the contact list a message belongs to: those fields are kept, nothing else
        # (no message, no address, no object body).
        if "json" in self.headers.get("Content-Type", ""):
            try:
                doc = json.loads(body or b"{}")
                record["json"] = {k: doc[k] for k in JSON_FIELDS if isinstance(doc, dict) and k in doc}
            except ValueError:
                pass
        with LOCK, open(self.server.recording, "a") as f:
            f.write(json.dumps(record) + "\n")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection("127.0.0.1", self.server.moto, timeout=300)
        try:
            conn.request(self.command, self.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP:
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
        finally:
            conn.close()

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


if __name__ == "__main__":
    server = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    server.moto = int(sys.argv[2])
    server.recording = sys.argv[3]
    print("recorder ready", flush=True)
    server.serve_forever()
