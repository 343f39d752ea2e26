# tests/lib/adapter_call.sh — an AdapterService call straight to an adapter over h2c, as the
# owner's own systems (a library counter) or a test would make it, without the hub: protoc
# encodes the request from protobuf text format, curl speaks gRPC (HTTP/2, prior knowledge).
# Source it after tests/lib/hub.sh (WORK, fail). Needs protoc (protobuf-compiler), python3.
# shellcheck shell=bash

# adapter_call PORT METHOD TEXT [TAG]: renkei.v1.Adapter<METHOD>Request from TEXT to the
# adapter on 127.0.0.1:PORT; sets ANSWER (the Adapter<METHOD>Response in text format),
# GRPC_STATUS and GRPC_REASON (renkei-error-reason). TAG names the files, for calls in parallel.
adapter_call() {
	local port=$1 method=$2 text=$3 tag=${4:-call}
	local inc=(-I "$RENKEI_SOURCE_DIR/proto")
	protoc "${inc[@]}" --encode="renkei.v1.Adapter${method}Request" renkei/v1/adapter.proto \
		<<<"$text" >"$WORK/$tag.pb" || fail "adapter_call: protoc cannot encode Adapter${method}Request"
	python3 -c 'import sys; b = open(sys.argv[1], "rb").read(); sys.stdout.buffer.write(b"\0" + len(b).to_bytes(4, "big") + b)' \
		"$WORK/$tag.pb" >"$WORK/$tag.req"
	curl -s --max-time 20 --http2-prior-knowledge -H 'content-type: application/grpc' -H 'te: trailers' \
		--data-binary @"$WORK/$tag.req" -D "$WORK/$tag.head" -o "$WORK/$tag.res" \
		"http://127.0.0.1:$port/renkei.v1.AdapterService/$method" || fail "adapter_call: $method on port $port failed"
	GRPC_STATUS=$(tr -d '\r' <"$WORK/$tag.head" | sed -n 's/^grpc-status: //p' | tail -1)
	GRPC_REASON=$(tr -d '\r' <"$WORK/$tag.head" | sed -n 's/^renkei-error-reason: //p' | tail -1)
	ANSWER=$(tail -c +6 "$WORK/$tag.res" |
		protoc "${inc[@]}" --decode="renkei.v1.Adapter${method}Response" renkei/v1/adapter.proto 2>/dev/null)
}

# answer_field NAME: the first value of field NAME in ANSWER (text format), unquoted, its
# octal escapes (protoc writes UTF-8 that way) decoded.
answer_field() {
	sed -n "s/^ *$1: \"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" <<<"$ANSWER" | head -1 |
		python3 -c 'import sys; t = sys.stdin.read().rstrip("\n"); print(t.encode("latin-1", "backslashreplace").decode("unicode_escape").encode("latin-1").decode("utf-8"))'
}
