# rpc_error_detail_test.sh — typed errors on the wire (hub/net/rpc.c rk_rpc_fail_detail),
# through a real adapter process (renkei-adapter-sim with its library switched off, so its
# catalogue methods answer UNIMPLEMENTED with reason ERROR_REASON_CAPABILITY_MISSING): the
# reason and the packed renkei.v1.ErrorDetail as each protocol carries them — Connect's
# "details" array and header, gRPC's trailers, gRPC-Web's trailer frame.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

# b64decode TEXT: standard base64 without padding, as these headers carry it.
b64decode() { printf '%s%s' "$1" "$(printf '%*s' $(((4 - ${#1} % 4) % 4)) '' | tr ' ' '=')" | base64 -d 2>/dev/null; }

# The sim on a free port: a port taken meanwhile (tests run in parallel) makes it exit at once,
# and then another is tried.
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	cat >"$WORK/sim.json" <<JSON
{"adapter": {"name": "sim-errors"}, "municipality": {"code": "132080", "slug": "chofu"},
 "listen": {"host": "127.0.0.1", "port": $port}, "sim": {"library": {"enabled": false}}}
JSON
	"$RENKEI_BIN_DIR/renkei-adapter-sim" --config "$WORK/sim.json" >"$WORK/sim.log" 2>&1 &
	sim=$!
	for i in $(seq 1 300); do
		curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break 2
		kill -0 "$sim" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$sim" 2>/dev/null && { tail -n 20 "$WORK/sim.log" >&2; fail "the sim did not answer within 30 s"; }
	wait "$sim" || true
done
curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" || { tail -n 20 "$WORK/sim.log" >&2; fail "no sim could start"; }
url=http://127.0.0.1:$port/renkei.v1.AdapterService/SearchCatalogue

body=$(curl -s -D "$WORK/headers" -H 'content-type: application/json' -d '{}' "$url")
expect_eq "$(jq -r .code <<<"$body")" unimplemented "Connect: the code"
expect_eq "$(jq -r '.details[0].type' <<<"$body")" renkei.v1.ErrorDetail "Connect: a typed detail"
expect_eq "$(jq -r '.details[0].debug.reason' <<<"$body")" ERROR_REASON_CAPABILITY_MISSING \
	"Connect: the detail's JSON"
expect_eq "$(b64decode "$(jq -r '.details[0].value' <<<"$body")" | tail -c +3)" \
	ERROR_REASON_CAPABILITY_MISSING "Connect: the detail's protobuf bytes"
expect_match "$(cat "$WORK/headers")" $'renkei-error-reason: ERROR_REASON_CAPABILITY_MISSING\r' \
	"Connect: the reason header"

printf '\x00\x00\x00\x00\x00' >"$WORK/empty.bin"
trailers=$(curl -s --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' \
	-H 'te: trailers' --data-binary "@$WORK/empty.bin" "$url" | tr -d '\r')
expect_match "$trailers" $'grpc-status: 12' "gRPC: the status trailer"
expect_match "$trailers" $'renkei-error-reason: ERROR_REASON_CAPABILITY_MISSING' "gRPC: the reason trailer"
status_bin=$(sed -n 's/^grpc-status-details-bin: //p' <<<"$trailers")
expect_match "$(b64decode "$status_bin" | tr -c '[:print:]' '.')" \
	'type.googleapis.com/renkei.v1.ErrorDetail.*ERROR_REASON_CAPABILITY_MISSING' \
	"gRPC: google.rpc.Status with the packed ErrorDetail"

web=$(curl -s -H 'content-type: application/grpc-web+proto' --data-binary "@$WORK/empty.bin" "$url" |
	tail -c +6 | tr -d '\r')
expect_match "$web" $'renkei-error-reason:ERROR_REASON_CAPABILITY_MISSING' "gRPC-Web: the reason in the trailer frame"
expect_match "$web" 'grpc-status-details-bin:[A-Za-z0-9+/]+' "gRPC-Web: the status details in the trailer frame"

kill -TERM "$sim"
wait "$sim" || fail "the sim did not exit 0 on SIGTERM"
pass "the sim exited 0"
