"""grpc_python.py — Debian's python3-grpcio, a second stock gRPC client nobody here wrote,
against the hub: unary Check, a server stream (Watch), NOT_FOUND, UNIMPLEMENTED, a deadline,
cancellation, and a 3 MB request message. Messages are written and read as bytes (the
health protocol's two messages are one string and one enum), so no generated code is needed.

Usage: /usr/bin/python3 grpc_python.py HOST:PORT
Prints "N passed, N failed" and exits non-zero on any failure.
"""
import sys
import time

import grpc

TARGET = sys.argv[1]
CHECK = "/grpc.health.v1.Health/Check"
WATCH = "/grpc.health.v1.Health/Watch"


def request(service):
    """HealthCheckRequest{service}: field 1, length-delimited."""
    data = service.encode()
    length = len(data)
    varint = bytearray()
    while True:
        byte = length & 0x7F
        length >>= 7
        varint.append(byte | (0x80 if length else 0))
        if not length:
            break
    return (b"\x0a" + bytes(varint) + data) if data else b""


SERVING = b"\x08\x01"  # HealthCheckResponse{status: SERVING}
SERVICE_UNKNOWN = b"\x08\x03"

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


channel = grpc.insecure_channel(TARGET)
check = channel.unary_unary(CHECK)
watch = channel.unary_stream(WATCH)


@case("Check answers SERVING")
def _():
    assert check(request(""), timeout=5) == SERVING


@case("an unknown service is NOT_FOUND with its message")
def _():
    try:
        check(request("no.such.Service"), timeout=5)
        raise AssertionError("no error")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.NOT_FOUND, err.code()
        assert err.details() == "unknown service", err.details()


@case("an unknown method is UNIMPLEMENTED")
def _():
    try:
        channel.unary_unary("/renkei.v1.Nothing/Here")(b"", timeout=5)
        raise AssertionError("no error")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.UNIMPLEMENTED, err.code()


@case("a 3 MB request message is accepted")
def _():
    try:
        check(request("s" * 3_000_000), timeout=10)
        raise AssertionError("no error")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.NOT_FOUND, err.code()


@case("Watch streams SERVING; cancelling ends it")
def _():
    stream = watch(request(""), timeout=10)
    assert next(stream) == SERVING
    stream.cancel()
    try:
        next(stream)
        raise AssertionError("stream went on")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.CANCELLED, err.code()


@case("Watch of an unknown service is SERVICE_UNKNOWN then OK")
def _():
    assert list(watch(request("no.such.Service"), timeout=5)) == [SERVICE_UNKNOWN]


@case("a Watch outliving its deadline ends DEADLINE_EXCEEDED")
def _():
    started = time.monotonic()
    stream = watch(request(""), timeout=0.5)
    try:
        for _ in stream:
            pass
        raise AssertionError("stream ended OK")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED, err.code()
    assert time.monotonic() - started < 3


for name, error in results:
    print(("ok - " if error is None else "FAIL - ") + name + ("" if error is None else ": " + error))
failed = sum(1 for _, error in results if error is not None)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
