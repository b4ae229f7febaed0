#!/usr/bin/env python3
"""A hostile Alpha Vantage on 127.0.0.1: every /query gets HTTP 200 with a chunked JSON body
that never ends (issue 13, item 3). For measuring the CLI's peak memory against it:

    python3 bench/endless_reply.py 8099 &
    ALPHA_VANTAGE_API_KEY=ENDLESSKEY0123456 ALPHA_VANTAGE_BASE_URL=http://127.0.0.1:8099 \
      /usr/bin/time -v target/debug/stockpicks run --symbols AAPL,MSFT,KO --no-cache --no-history --out /tmp/endless-run

Each connection stops after 60 s or 16 GiB sent, whichever comes first.
"""
import socketserver
import sys
import time

CHUNK = b"a" * (256 * 1024)
FRAME = b"%x\r\n" % len(CHUNK) + CHUNK + b"\r\n"


class Endless(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            got = self.request.recv(4096)
            if not got:
                return
            data += got
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        first = b'{"Symbol": "AAPL", "Name": "'
        try:
            self.request.sendall(head + b"%x\r\n" % len(first) + first + b"\r\n")
            sent, started = 0, time.monotonic()
            while sent < 16 << 30 and time.monotonic() - started < 60:
                self.request.sendall(FRAME)
                sent += len(FRAME)
        except OSError:
            pass


class Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8099
    with Server(("127.0.0.1", port), Endless) as s:
        print(f"endless replies on http://127.0.0.1:{port}", flush=True)
        s.serve_forever()
