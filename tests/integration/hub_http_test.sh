# hub_http_test.sh — renkeid over HTTP/1.1 as a client sees it, against the real PostgreSQL of
# tests/run: health and readiness, the tenant list, keep-alive and pipelining, limits and
# malformed input, metrics, the admin token (with renkeictl), TLS, idle timeout, and a
# graceful SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
export RK_PREFACE=$'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

export RENKEI_PG
RENKEI_PG=$(fresh_db hub_http_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_IDLE_TIMEOUT_MS=1500
hub_start

expect_eq "$(curl -s "$HUB_URL/healthz")" '{"status":"ok"}' "healthz answers"
expect_match "$(curl -s "$HUB_URL/readyz")" '"status":"ready","schema_version":[0-9]+' "readyz is ready"
expect_match "$(curl -s -D - -o /dev/null -H 'X-Request-Id: trace-42' "$HUB_URL/healthz")" \
	$'X-Request-Id: trace-42\r' "a sane X-Request-Id is echoed"
expect_match "$(curl -s -D - -o /dev/null -H 'X-Request-Id: bad id!' "$HUB_URL/healthz")" \
	$'X-Request-Id: [0-9a-f]{24}\r' "an unsafe X-Request-Id is replaced"

tenants=$(curl -s "$HUB_URL/api/v1/tenants")
expect_eq "$(jq '.tenants | length' <<<"$tenants")" 8 "eight tenants listed"
expect_eq "$(jq -r '[.tenants[].code] | join(",")' <<<"$tenants")" \
	"131199,132080,132110,132136,132195,132217,132225,132292" "tenant codes"
expect_eq "$(jq -r '.tenants[] | select(.slug == "kodaira") | .name.ja' <<<"$tenants")" "小平市" \
	"Japanese names intact"
expect_eq "$(jq -r '.tenants[] | select(.slug == "chofu") | .issuer' <<<"$tenants")" \
	"$HUB_URL/t/chofu" "issuer per realm"
expect_eq "$(jq 'has("tenants") and (.tenants[0] | has("contact") | not)' <<<"$tenants")" true \
	"public list carries no contacts"

expect_eq "$(http_status "$HUB_URL/nope")" 404 "unknown path is 404"
expect_eq "$(curl -s "$HUB_URL/nope" | jq -r .error)" not_found "404 has a JSON error"
expect_eq "$(http_status "$HUB_URL/healthz" -X POST)" 405 "wrong method is 405"
expect_eq "$(http_status "$HUB_URL/healthz" -I)" 200 "HEAD is served"

# Keep-alive and pipelining: three requests in one write, answered in order on one connection.
exec 3<>"/dev/tcp/127.0.0.1/$HUB_PORT"
printf 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /readyz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n' >&3
statuses=$(timeout 5 cat <&3 | grep -ao 'HTTP/1.1 [0-9]*' | cut -d' ' -f2 | tr '\n' ' ')
exec 3<&-
expect_eq "$statuses" "200 200 404 " "pipelined requests answered in order"

# Limits and malformed input: a clear error, and the hub carries on.
big_header=$(head -c 20000 /dev/zero | tr '\0' a)
expect_eq "$(http_status "$HUB_URL/healthz" -H "X-Big: $big_header")" 431 "oversized headers are 431"
head -c 2000000 /dev/zero >"$WORK/big.bin"
expect_eq "$(http_status "$HUB_URL/healthz" -X POST --data-binary "@$WORK/big.bin")" 413 \
	"oversized body is 413"
exec 3<>"/dev/tcp/127.0.0.1/$HUB_PORT"
printf 'THIS IS NOT HTTP\r\n\r\n' >&3
reply=$(timeout 5 cat <&3 | head -n 1 | tr -d '\r')
exec 3<&-
expect_eq "$reply" "HTTP/1.1 400 Bad Request" "garbage gets 400"
expect_eq "$(http_status "$HUB_URL/healthz")" 200 "still serving after bad input"

# Idle keep-alive connections are closed by the hub after limits.idle_timeout_ms.
exec 3<>"/dev/tcp/127.0.0.1/$HUB_PORT"
start=$SECONDS
timeout 10 cat <&3 >/dev/null || fail "idle connection was not closed within 10 s"
exec 3<&-
(( SECONDS - start <= 4 )) || fail "idle connection closed after $((SECONDS - start)) s, expected ~1.5 s"
pass "idle connection closed"

# HTTP/2 with prior knowledge on the same port: the same handlers answer.
expect_eq "$(curl -s --http2-prior-knowledge "$HUB_URL/healthz")" '{"status":"ok"}' "h2c healthz"
expect_eq "$(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version}' "$HUB_URL/healthz")" 2 \
	"h2c is really HTTP/2"
expect_eq "$(curl -s --http2-prior-knowledge "$HUB_URL/api/v1/tenants" | jq '.tenants | length')" 8 \
	"h2c tenant list"
expect_eq "$(http_status "$HUB_URL/nope" --http2-prior-knowledge)" 404 "h2c unknown path is 404"
expect_eq "$(http_status "$HUB_URL/healthz" --http2-prior-knowledge -X POST)" 405 "h2c wrong method is 405"
expect_eq "$(http_status "$HUB_URL/healthz" --http2-prior-knowledge -X POST --data-binary "@$WORK/big.bin")" \
	413 "h2c oversized body is 413"
expect_eq "$(curl -s --http2-prior-knowledge -H "Authorization: Bearer $RENKEI_ADMIN_TOKEN" "$HUB_URL/admin/v1/tenants" | jq '.tenants | length')" \
	8 "h2c admin API (asynchronous database answer)"
h2out=$(h2load -n 2000 -c 4 -m 16 "$HUB_URL/readyz" 2>&1)
expect_match "$h2out" 'status codes: 2000 2xx' "2000 multiplexed h2c requests, all 200"
# The preface sent a byte at a time is still recognised (the sniffer waits, bounded).
reply=$( (for ((i = 0; i < 24; i++)); do printf "%s" "${RK_PREFACE:i:1}"; sleep 0.01; done
	printf '\x00\x00\x00\x04\x00\x00\x00\x00\x00'; sleep 0.3) | RK_PREFACE= timeout 5 \
	bash -c "exec 4<&0 3<>/dev/tcp/127.0.0.1/$HUB_PORT; cat <&4 >&3 & head -c 9 <&3 | od -An -tx1" || true)
expect_match "$reply" '^ *00 00 [0-9a-f]{2} 04 00 00 00 00 00' "a slowly sent preface gets the server's SETTINGS"

# The same RPC methods in the other protocols, over HTTP/1.1, as a browser or curl calls them.
printf '\x00\x00\x00\x00\x00' >"$WORK/empty-frame.bin"
check=/grpc.health.v1.Health/Check
expect_eq "$(curl -s -H 'content-type: application/proto' --data-binary '' "$HUB_URL$check" | od -An -tx1 | tr -d ' \n')" \
	0801 "Connect unary (application/proto) over HTTP/1.1: status SERVING"
expect_eq "$(curl -s -H 'content-type: application/proto' --data-binary 'x' "$HUB_URL$check" | jq -r .code)" \
	invalid_argument "Connect error as JSON with a code"
expect_eq "$(http_status "$HUB_URL$check" -H 'content-type: application/proto' --data-binary 'x')" 400 \
	"Connect invalid_argument is HTTP 400"
expect_eq "$(curl -s -H 'content-type: application/grpc-web+proto' --data-binary "@$WORK/empty-frame.bin" "$HUB_URL$check" | od -An -c | tr -s ' \n' ' ')" \
	' \0 \0 \0 \0 002 \b 001 200 \0 \0 \0 017 g r p c - s t a t u s : 0 \r \n ' \
	"gRPC-Web: message frame then trailer frame"
expect_eq "$(http_status "$HUB_URL$check" -H 'content-type: text/plain' --data-binary x)" 415 \
	"an RPC with a foreign content type is 415"
expect_eq "$(http_status "$HUB_URL/renkei.v1.Nothing/Here" -H 'content-type: text/plain' --data-binary x)" 404 \
	"a non-RPC POST to an unknown path stays 404"
# Connect with JSON (the proto3 JSON mapping): what curl and a browser's fetch() send.
expect_eq "$(curl -s -H 'content-type: application/json' -d '{}' "$HUB_URL$check")" '{"status":"SERVING"}' \
	"Connect JSON unary"
expect_eq "$(curl -s -H 'content-type: application/json; charset=utf-8' -d '{"service":""}' "$HUB_URL$check")" \
	'{"status":"SERVING"}' "Connect JSON with a charset parameter"
expect_eq "$(http_status "$HUB_URL$check" -H 'content-type: application/json' -d '{"service":"x"}')" 404 \
	"Connect JSON: NOT_FOUND is HTTP 404"
expect_eq "$(curl -s -H 'content-type: application/json' -d '{"servis":""}' "$HUB_URL$check" | jq -r .message)" \
	'$.servis: unknown field' "Connect JSON names an unknown field"
expect_eq "$(curl -s -H 'content-type: application/json' -d '{"service":5}' "$HUB_URL$check" | jq -r .code)" \
	invalid_argument "Connect JSON refuses a wrong type"
expect_eq "$(curl -s -H 'content-type: application/json' -d '{' "$HUB_URL$check" | jq -r .code)" \
	invalid_argument "Connect JSON refuses broken JSON"
expect_eq "$(curl -s --http2-prior-knowledge -H 'content-type: application/json' -d '{}' "$HUB_URL$check")" \
	'{"status":"SERVING"}' "Connect JSON over h2c"
# RPC messages may be up to limits.message_bytes (4 MiB), beyond the 1 MiB of other bodies.
{ printf '{"service":"'; head -c 3000000 /dev/zero | tr '\0' s; printf '"}'; } >"$WORK/big-request.json"
expect_eq "$(curl -s -H 'content-type: application/json' --data-binary "@$WORK/big-request.json" "$HUB_URL$check" | jq -r .code)" \
	not_found "a 3 MB RPC message is read (and its service is unknown)"
{ printf '\x00\x00\x50\x00\x05'; head -c 5242885 /dev/zero; } >"$WORK/huge-frame.bin"
expect_match "$(curl -s --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' \
	--data-binary "@$WORK/huge-frame.bin" "$HUB_URL$check")" 'grpc-status: 8' \
	"a 5 MiB gRPC message is RESOURCE_EXHAUSTED"
answer=$(curl -s -w '\n%{http_code}' -H 'content-type: application/json' --data-binary "@$WORK/huge-frame.bin" "$HUB_URL$check")
expect_eq "$(tail -n1 <<<"$answer") $(head -n1 <<<"$answer" | jq -r .code)" '429 resource_exhausted' \
	"a 5 MiB Connect body is resource_exhausted (HTTP 429, as Connect maps it)"
# Server streaming over HTTP/1.1 (chunked): Connect's enveloped stream of Health/Watch.
watch=$(curl -s --max-time 1 -H 'content-type: application/connect+proto' \
	--data-binary "@$WORK/empty-frame.bin" "$HUB_URL/grpc.health.v1.Health/Watch" | od -An -tx1 | tr -d ' \n' || true)
expect_match "$watch" '^00000000020801' "Connect streaming over HTTP/1.1 delivers the first message at once"
printf '\x00\x00\x00\x00\x02{}' >"$WORK/empty-json-frame.bin"
watch=$(curl -s --max-time 1 -H 'content-type: application/connect+json' \
	--data-binary "@$WORK/empty-json-frame.bin" "$HUB_URL/grpc.health.v1.Health/Watch" | tail -c +6 || true)
expect_eq "$watch" '{"status":"SERVING"}' "Connect JSON streaming delivers JSON envelopes"
expect_eq "$(curl -s -H 'content-type: application/proto' --data-binary '' "$HUB_URL/grpc.health.v1.Health/Watch" | jq -r .code)" \
	unimplemented "a streaming method refuses Connect unary"

metrics=$(curl -s "$HUB_URL/metrics")
expect_match "$metrics" 'renkei_http_requests_total\{route="healthz",status="200"\} [0-9]+' \
	"metrics count requests by route and status"
expect_match "$metrics" 'renkei_http_request_duration_seconds_bucket\{route="readyz",le="\+Inf"\}' \
	"metrics have a latency histogram"
expect_match "$metrics" 'renkei_store_connections\{state="idle"\} [0-9]+' "metrics show the pool"
expect_match "$metrics" 'renkei_http_requests_total\{route="unmatched",status="404"\}' \
	"unmatched requests are counted"

# The admin API and renkeictl.
expect_eq "$(http_status "$HUB_URL/admin/v1/tenants")" 401 "admin API needs the token"
expect_eq "$(http_status "$HUB_URL/admin/v1/tenants" -H 'Authorization: Bearer wrong')" 401 \
	"a wrong token is refused"
admin=$(curl -s -H "Authorization: Bearer $RENKEI_ADMIN_TOKEN" "$HUB_URL/admin/v1/tenants")
expect_eq "$(jq '[.tenants[] | select(.slug == "kodaira") | .agreements[]] | length' <<<"$admin")" 4 \
	"kodaira's mutual-use agreement has four partners"
out=$("$RENKEI_BIN_DIR/renkeictl" --hub "$HUB_URL" --json tenant list)
expect_eq "$(jq '.tenants | length' <<<"$out")" 8 "renkeictl tenant list --json"
table=$("$RENKEI_BIN_DIR/renkeictl" --hub "$HUB_URL" tenant list)
expect_match "$table" 'kiyose +清瀬市' "renkeictl prints a table"
status=0
out=$(RENKEI_ADMIN_TOKEN=wrong-token "$RENKEI_BIN_DIR/renkeictl" --hub "$HUB_URL" --json tenant list) || status=$?
expect_eq "$status" 1 "renkeictl with a wrong token fails"
expect_eq "$(jq -r .error <<<"$out")" unauthorized "renkeictl reports the refusal as JSON"
if grep -q "$RENKEI_ADMIN_TOKEN" "$HUB_LOG"; then
	fail "the admin token appears in the log"
fi
pass "no token in the log"

# A request in flight at SIGTERM is finished, not cut: a Watch stream open during the drain
# ends with its end-of-stream envelope, and the hub then exits 0.
curl -s -N --max-time 8 -H 'content-type: application/connect+proto' \
	--data-binary "@$WORK/empty-frame.bin" "$HUB_URL/grpc.health.v1.Health/Watch" >"$WORK/watch.bin" &
watcher=$!
sleep 0.5
hub_stop
wait "$watcher" || fail "the stream open at SIGTERM did not end cleanly"
expect_match "$(od -An -tx1 "$WORK/watch.bin" | tr -d ' \n')" '^000000000208010000000002[0-9a-f]*7b7d$' \
	"a stream in flight at SIGTERM gets its messages and a clean end"
grep -q '"msg":"draining"' "$HUB_LOG" || fail "no drain on SIGTERM"
grep -q '"msg":"stopped"' "$HUB_LOG" || fail "no clean stop"
pass "SIGTERM drains and exits 0"

# TLS: the same hub behind a certificate made here.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
export RENKEI_TLS_CERT=$WORK/cert.pem RENKEI_TLS_KEY=$WORK/key.pem
HUB_SCHEME=https HUB_CURL_ARGS="--cacert $WORK/cert.pem" hub_start
expect_eq "$(curl -s --cacert "$WORK/cert.pem" --http1.1 "$HUB_URL/healthz")" '{"status":"ok"}' \
	"healthz over TLS, HTTP/1.1"
expect_eq "$(curl -s --cacert "$WORK/cert.pem" --http2 -o /dev/null -w '%{http_version}' "$HUB_URL/healthz")" 2 \
	"ALPN selects h2 under TLS"
expect_eq "$(curl -s --cacert "$WORK/cert.pem" --http2 "$HUB_URL/api/v1/tenants" | jq '.tenants | length')" 8 \
	"tenant list over h2 with TLS"
out=$(SSL_CERT_FILE=$WORK/cert.pem "$RENKEI_BIN_DIR/renkeictl" --hub "$HUB_URL" --json tenant list)
expect_eq "$(jq '.tenants | length' <<<"$out")" 8 "renkeictl over TLS verifies the certificate"
hub_stop
