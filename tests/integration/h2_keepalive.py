"""h2_keepalive.py — a raw HTTP/2 client that opens a gRPC Watch stream and then never answers
the server's PINGs, like a client whose host vanished without closing its socket. Prints the
frame types it saw and how long the server took to close the connection.

Usage: /usr/bin/python3 h2_keepalive.py PORT
"""
import socket
import struct
import sys
import time

PORT = int(sys.argv[1])


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    """HPACK literal header field without indexing, new name, no Huffman coding."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


headers = (b"\x83\x86"  # :method POST, :scheme http (static table)
           + literal(b":path", b"/grpc.health.v1.Health/Watch")
           + literal(b":authority", b"127.0.0.1")
           + literal(b"content-type", b"application/grpc")
           + literal(b"te", b"trailers"))
sock = socket.create_connection(("127.0.0.1", PORT))
sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0)
             + frame(1, 0x4, 1, headers) + frame(0, 0x1, 1, b"\x00\x00\x00\x00\x00"))
started = time.monotonic()
seen, buffer = [], b""
sock.settimeout(10)
while True:
    try:
        data = sock.recv(65536)
    except (socket.timeout, ConnectionResetError):
        data = b""
    if not data:
        break
    buffer += data
    while len(buffer) >= 9:
        length = int.from_bytes(buffer[:3], "big")
        if len(buffer) < 9 + length:
            break
        seen.append(buffer[3])
        buffer = buffer[9 + length:]
names = {0: "DATA", 1: "HEADERS", 4: "SETTINGS", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE"}
print(" ".join(sorted({names.get(k, str(k)) for k in seen})))
print(f"closed after {time.monotonic() - started:.2f} s")
