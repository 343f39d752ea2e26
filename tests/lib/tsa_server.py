#!/usr/bin/env python3
"""tsa_server.py — a tiny RFC 3161 time-stamping authority over HTTP for tests and the quickstart.

Usage: tsa_server.py DIR PORT_FILE [PORT]

DIR holds what tests/lib/tsa.sh's tsa_make writes (tsa.cnf, the TSA's key and certificate). Each
POST carries a DER TimeStampReq (at most 64 KiB); OpenSSL's own `openssl ts -reply` signs the
answer, which goes back as application/timestamp-reply. The port it listens on (PORT, or one the
system picks) is written to PORT_FILE once it accepts connections. Loopback only.
"""
import http.server
import os
import subprocess
import sys
import tempfile

REQUEST_MAX = 65536


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        if length <= 0 or length > REQUEST_MAX:
            self.send_error(413 if length > REQUEST_MAX else 411)
            return
        query = self.rfile.read(length)
        with tempfile.TemporaryDirectory() as tmp:
            query_file = os.path.join(tmp, "query.tsq")
            reply_file = os.path.join(tmp, "reply.tsr")
            with open(query_file, "wb") as f:
                f.write(query)
            done = subprocess.run(
                ["openssl", "ts", "-reply", "-config", os.path.join(DIR, "tsa.cnf"),
                 "-queryfile", query_file, "-out", reply_file],
                capture_output=True)
            if done.returncode != 0:
                self.send_error(400, "openssl ts -reply refused the query")
                return
            with open(reply_file, "rb") as f:
                reply = f.read()
        self.send_response(200)
        self.send_header("Content-Type", "application/timestamp-reply")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    DIR = sys.argv[1]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    server = http.server.HTTPServer(("127.0.0.1", port), Handler)
    with open(sys.argv[2] + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(sys.argv[2] + ".tmp", sys.argv[2])
    server.serve_forever()
