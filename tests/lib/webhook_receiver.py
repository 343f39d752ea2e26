#!/usr/bin/env python3
"""webhook_receiver.py — a partner's webhook endpoint for tests: records every delivery.

Usage: webhook_receiver.py DIR [CERT KEY]

Listens on 127.0.0.1 (a port the system picks, written to DIR/port once it accepts
connections), over TLS with the PEM certificate CERT and its key KEY when they are given. Every POST to any path is one delivery attempt, appended as a JSON line to
DIR/deliveries.jsonl: {"at": seconds since the epoch, "answered": the status sent back (0 when
it hung), "delivery_id", "partner_id", "signature": the Renkei-Signature header, "body": the
exact body as text}. Bodies above 4 MiB are refused (413) and recorded with an empty body.

How it answers is steered by GET /control?...: `fail=N` answers the next N deliveries 500,
`hang=S` lets every delivery wait S seconds without answering (0: answer again), `redirect=1`
answers 302 to every delivery (0: stop); with no parameter it only reports the state. Otherwise
a delivery is answered 204. Control calls are not recorded.
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time
import urllib.parse

BODY_MAX = 4 * 1024 * 1024

STATE = {"fail": 0, "hang": 0.0, "redirect": False}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/control":
            self.send_error(404)
            return
        query = urllib.parse.parse_qs(url.query)
        with LOCK:
            if "fail" in query:
                STATE["fail"] = int(query["fail"][0])
            if "hang" in query:
                STATE["hang"] = float(query["hang"][0])
            if "redirect" in query:
                STATE["redirect"] = query["redirect"][0] == "1"
            answer = json.dumps(STATE).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_POST(self):
        at = time.time()
        length = int(self.headers.get("Content-Length", "0"))
        body = b""
        if length > BODY_MAX:
            status = 413
        else:
            body = self.rfile.read(length)
            with LOCK:
                hang = STATE["hang"]
                if STATE["redirect"]:
                    status = 302
                elif STATE["fail"] > 0:
                    STATE["fail"] -= 1
                    status = 500
                else:
                    status = 204
        if length <= BODY_MAX and hang > 0:
            status = 0
        record = {
            "at": at,
            "answered": status,
            "delivery_id": self.headers.get("Renkei-Delivery-Id", ""),
            "partner_id": self.headers.get("Renkei-Partner-Id", ""),
            "signature": self.headers.get("Renkei-Signature", ""),
            "body": body.decode("utf-8", "replace"),
        }
        with LOCK:
            with open(os.path.join(DIR, "deliveries.jsonl"), "a", encoding="utf-8") as f:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        if status == 0:
            time.sleep(hang)
            self.close_connection = True
            return
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "http://127.0.0.1:9/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, fmt, *args):
        pass


if __name__ == "__main__":
    DIR = sys.argv[1]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if len(sys.argv) == 4:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[2], sys.argv[3])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write(str(server.server_address[1]))
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    server.serve_forever()
