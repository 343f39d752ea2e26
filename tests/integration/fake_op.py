#!/usr/bin/env python3
"""fake_op.py — an OpenID provider that mints ID tokens a relying party must refuse, for
tests/integration/pupil_test.sh: authorize answers at once (as an SSO session would), token
answers an ID token shaped by the mode named in MODE_FILE, jwks publishes one ES256 key.

Modes: good, bad_signature, tampered_payload, wrong_aud, wrong_nonce, expired, wrong_iss,
alg_none, unknown_kid.

usage: fake_op.py PORT ISSUER CLIENT_ID MODE_FILE
"""
import base64
import http.server
import json
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

PORT, ISSUER, CLIENT_ID, MODE_FILE = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
PATH = urllib.parse.urlparse(ISSUER).path
KEY, OTHER_KEY = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
NONCES = {}  # code -> nonce


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwk(key, kid):
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256", "kid": kid, "alg": "ES256", "use": "sig",
            "x": b64(numbers.x.to_bytes(32, "big")), "y": b64(numbers.y.to_bytes(32, "big"))}


def sign(header, claims, key):
    signing_input = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return signing_input.decode() + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def id_token(mode, nonce):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "fake-subject-0001", "aud": CLIENT_ID, "iat": now,
              "exp": now + 300, "nonce": nonce, "age_band": "elementary",
              "home_municipality": "132217"}
    header = {"alg": "ES256", "kid": "k1", "typ": "JWT"}
    key = KEY
    if mode == "wrong_aud":
        claims["aud"] = "another-client"
    elif mode == "wrong_nonce":
        claims["nonce"] = "not-the-login-nonce"
    elif mode == "expired":
        claims["iat"], claims["exp"] = now - 600, now - 300
    elif mode == "wrong_iss":
        claims["iss"] = ISSUER + "-evil"
    elif mode == "unknown_kid":
        header["kid"], key = "k2", OTHER_KEY
    elif mode == "alg_none":
        return b64(json.dumps({"alg": "none", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode()) + "."
    token = sign(header, claims, key)
    head, payload, signature = token.split(".")
    if mode == "bad_signature":
        signature = signature[:20] + ("A" if signature[20] != "A" else "B") + signature[21:]
    elif mode == "tampered_payload":
        claims["age_band"] = "lower_secondary"
        payload = b64(json.dumps(claims).encode())
    return ".".join([head, payload, signature])


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=None, location=None):
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        data = json.dumps(body).encode() if body is not None else b""
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        if url.path == PATH + "/jwks":
            self.answer(200, {"keys": [jwk(KEY, "k1")]})
        elif url.path == PATH + "/authorize":
            code = "code-%d" % len(NONCES)
            NONCES[code] = query.get("nonce", "")
            location = "%s?code=%s&state=%s&iss=%s" % (query["redirect_uri"], code, query["state"],
                                                         urllib.parse.quote(ISSUER, safe=""))
            self.answer(302, location=location)
        else:
            self.answer(404, {"error": "not_found"})

    def do_POST(self):
        form = dict(urllib.parse.parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
        nonce = NONCES.pop(form.get("code", ""), None)
        if urllib.parse.urlparse(self.path).path != PATH + "/token" or nonce is None:
            self.answer(400, {"error": "invalid_grant"})
            return
        with open(MODE_FILE) as f:
            mode = f.read().strip()
        self.answer(200, {"access_token": "unused", "token_type": "Bearer", "expires_in": 300,
                          "id_token": id_token(mode, nonce)})


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
