# sim_grpc_test.sh — starts renkei-adapter-sim (the adapter SDK's reference adapter) three times
# and runs a stock gRPC client (@grpc/grpc-js, tests/e2e/sim_grpc.mjs) against it: over h2c
# (catalogue, availability, bookings, idempotency, library), with injected latency and an
# outage file (deadlines, UNAVAILABLE, health), and over mutual TLS with a CA, a client
# certificate and a stranger's certificate made here with openssl. Needs no PostgreSQL.
# Each sim must exit 0 on SIGTERM (the sanitizers report through the exit status).
set -euo pipefail

: "${RENKEI_BIN_DIR:?run through tests/run}"
: "${RENKEI_SOURCE_DIR:?run through tests/run}"

TEST_NAME=sim_grpc_test
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX")
SIM_PID=
SIM_LOG=$WORK/sim.log
SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
CLIENT=$RENKEI_SOURCE_DIR/tests/e2e/sim_grpc.mjs

fail() {
	echo "FAIL ($TEST_NAME): $*" >&2
	if [[ -s $SIM_LOG ]]; then
		echo "--- last lines of the sim's log:" >&2
		tail -n 20 "$SIM_LOG" >&2
	fi
	exit 1
}

cleanup() {
	if [[ -n $SIM_PID ]] && kill -0 "$SIM_PID" 2>/dev/null; then
		kill -KILL "$SIM_PID" 2>/dev/null || true
	fi
	rm -rf -- "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT

# sim_start CONFIG_JSON [curl args for /healthz]: starts the sim on a free port; sets SIM_PORT.
sim_start() {
	local config=$1 attempt i
	shift
	for attempt in 1 2 3 4 5; do
		SIM_PORT=$((20000 + RANDOM % 20000))
		printf '%s\n' "$config" >"$WORK/sim.json"
		RENKEI_ADAPTER_PORT=$SIM_PORT "$SIM" --config "$WORK/sim.json" >"$SIM_LOG" 2>&1 &
		SIM_PID=$!
		for i in $(seq 1 100); do
			kill -0 "$SIM_PID" 2>/dev/null || break
			if curl -s -o /dev/null --max-time 2 "$@" "$SIM_URL:$SIM_PORT/healthz"; then
				return 0
			fi
			sleep 0.1
		done
		kill -0 "$SIM_PID" 2>/dev/null && fail "the sim did not answer within 10 s"
		wait "$SIM_PID" || true
		SIM_PID=
		grep -q 'cannot listen' "$SIM_LOG" || fail "the sim exited during start-up"
	done
	fail "no free port after 5 attempts"
}

sim_stop() {
	kill -TERM "$SIM_PID"
	local status=0
	wait "$SIM_PID" || status=$?
	SIM_PID=
	[[ $status == 0 ]] || fail "the sim exited with status $status after SIGTERM"
	echo "ok - the sim drained and exited 0"
}

municipality='"municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu", "name_kana": "チョウフシ"}'

# 1. h2c: the whole contract.
SIM_URL=http://127.0.0.1
sim_start "{$municipality, \"sim\": {\"seed\": 7, \"facilities\": {\"count\": 40, \"hold_ttl_seconds\": 3, \"churn_interval_ms\": 1000}}}"
node --test-reporter=spec "$CLIENT" main "127.0.0.1:$SIM_PORT" || fail "grpc-js against the sim (h2c)"
sim_stop

# 2. faults: fixed latency of 800 ms, and an outage file.
sim_start "{$municipality, \"sim\": {\"faults\": {\"latency\": {\"distribution\": \"fixed\", \"fixed_ms\": 800}, \"outage_file\": \"$WORK/down\"}}}"
node --test-reporter=spec "$CLIENT" faults "127.0.0.1:$SIM_PORT" "$WORK/down" || fail "faults"
sim_stop

# 3. mutual TLS, with the library turned off (its methods answer UNIMPLEMENTED).
cd "$WORK"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test-ca \
	-keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=other-ca \
	-keyout other-ca.key -out other-ca.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
	-extfile server.ext -out server.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=renkei-hub \
	-keyout client.key -out client.csr 2>/dev/null
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 -out client.pem 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=stranger \
	-keyout stranger.key -out stranger.csr 2>/dev/null
openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -days 1 \
	-out stranger.pem 2>/dev/null
cd - >/dev/null
export RENKEI_ADAPTER_TLS_CERT=$WORK/server.pem RENKEI_ADAPTER_TLS_KEY=$WORK/server.key
export RENKEI_ADAPTER_TLS_CLIENT_CA=$WORK/ca.pem
SIM_URL=https://localhost
sim_start "{$municipality, \"sim\": {\"library\": {\"enabled\": false}}}" \
	--cacert "$WORK/ca.pem" --cert "$WORK/client.pem" --key "$WORK/client.key"
# curl without a client certificate must not get an HTTP answer either.
if curl -s -o /dev/null --max-time 5 --cacert "$WORK/ca.pem" "https://localhost:$SIM_PORT/healthz"; then
	fail "curl without a client certificate got an answer"
fi
echo "ok - curl without a client certificate is refused"
node --test-reporter=spec "$CLIENT" mtls "localhost:$SIM_PORT" "$WORK/ca.pem" "$WORK/client.pem" \
	"$WORK/client.key" "$WORK/stranger.pem" "$WORK/stranger.key" || fail "mTLS"
sim_stop
