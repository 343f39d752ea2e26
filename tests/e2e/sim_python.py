"""sim_python.py — Debian's python3-grpcio, a stock gRPC client, against an adapter built on
the SDK (renkei-adapter-sim): Describe, health, UNIMPLEMENTED with its typed reason, a
deadline under injected latency, UNAVAILABLE during an outage. Messages are read as bytes
(the fields checked are plain strings in them), so no generated code is needed.

Usage: /usr/bin/python3 sim_python.py HOST:PORT OUTAGE_FILE
Prints "N passed, N failed" and exits non-zero on any failure.
"""
import os
import sys
import time

import grpc

TARGET, OUTAGE_FILE = sys.argv[1], sys.argv[2]
channel = grpc.insecure_channel(TARGET)
results = []


def case(name):
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
        except Exception as exc:  # a failed expectation or an unexpected RPC error
            results.append((name, repr(exc)))
        return fn
    return wrap


def rpc(method):
    return channel.unary_unary("/renkei.v1.AdapterService/" + method)


@case("Describe names the municipality")
def _():
    reply = rpc("Describe")(b"", timeout=5)
    assert b"132080" in reply and b"chofu" in reply, reply


@case("health Check answers SERVING")
def _():
    assert channel.unary_unary("/grpc.health.v1.Health/Check")(b"", timeout=5) == b"\x08\x01"


@case("a switched-off capability is UNIMPLEMENTED with its reason")
def _():
    try:
        rpc("SearchCatalogue")(b"", timeout=5)
        raise AssertionError("no error")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err.code()
        metadata = dict(err.trailing_metadata() or ())
        assert metadata.get("renkei-error-reason") == "ERROR_REASON_CAPABILITY_MISSING", metadata
        assert "grpc-status-details-bin" in metadata, metadata


@case("injected latency beyond the deadline is DEADLINE_EXCEEDED, on time")
def _():
    started = time.monotonic()
    try:
        rpc("ListFacilities")(b"", timeout=0.2)
        raise AssertionError("no error")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, err.code()
    assert time.monotonic() - started < 1.5


@case("during an outage calls are UNAVAILABLE with the owner-unavailable reason")
def _():
    open(OUTAGE_FILE, "w").close()
    try:
        rpc("Describe")(b"", timeout=5)
        raise AssertionError("no error")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.UNAVAILABLE, err.code()
        metadata = dict(err.trailing_metadata() or ())
        assert metadata.get("renkei-error-reason") == "ERROR_REASON_OWNER_UNAVAILABLE", metadata
    finally:
        os.unlink(OUTAGE_FILE)
    assert b"chofu" in rpc("Describe")(b"", timeout=5)


for name, error in results:
    print(("ok - " if error is None else "FAIL - ") + name + ("" if error is None else ": " + error))
failed = sum(1 for _, error in results if error is not None)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
