# connect_adapter_test.sh — starts renkei-adapter-sim twice (plain, and with 800 ms of latency,
# an outage file and the library off), renkei-adapter-status (tests/e2e/status_adapter.c) and
# renkeid on the real PostgreSQL of tests/run, then runs @connectrpc/connect-node in all its
# protocols and @grpc/grpc-js against them (tests/e2e/connect_adapter.mjs): unary calls, typed
# errors, deadlines, cancellation, every status code, 4 MiB messages and the message limit.
# Every process must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

declare -A PIDS=()

stop_everything() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	cleanup
}
trap stop_everything EXIT

chofu='"municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu", "name_kana": "チョウフシ"}'

# adapter_start NAME BINARY CONFIG_JSON: an adapter on a free port; sets PORT.
adapter_start() {
	local name=$1 binary=$2
	printf '%s\n' "$3" >"$WORK/$name.json"
	for _ in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000))
		RENKEI_ADAPTER_PORT=$PORT "$binary" --config "$WORK/$name.json" >"$WORK/$name.log" 2>&1 &
		PIDS[$name]=$!
		for _ in $(seq 1 100); do
			kill -0 "${PIDS[$name]}" 2>/dev/null || break
			curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/healthz" && return 0
			sleep 0.1
		done
		kill -0 "${PIDS[$name]}" 2>/dev/null && fail "$name did not answer within 10 s"
		wait "${PIDS[$name]}" || true
		grep -q 'cannot listen' "$WORK/$name.log" || fail "$name exited during start-up: $(tail -n 5 "$WORK/$name.log")"
	done
	fail "no free port for $name"
}

adapter_start sim "$RENKEI_BIN_DIR/renkei-adapter-sim" "{$chofu}"
sim_url=http://127.0.0.1:$PORT
adapter_start slow "$RENKEI_BIN_DIR/renkei-adapter-sim" "{$chofu, \"sim\": {\"library\": {\"enabled\": false},
	\"faults\": {\"latency\": {\"distribution\": \"fixed\", \"fixed_ms\": 800}, \"outage_file\": \"$WORK/down\"}}}"
slow_url=http://127.0.0.1:$PORT
adapter_start status "$RENKEI_BIN_DIR/renkei-adapter-status" "{$chofu}"
status_url=http://127.0.0.1:$PORT

export RENKEI_PG
RENKEI_PG=$(fresh_db connect_adapter_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
hub_start
node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/connect_adapter.mjs" "$sim_url" "$slow_url" \
	"$WORK/down" "$status_url" "$HUB_URL" || fail "stock clients against SDK adapters"
hub_stop
pass "the hub exited 0 on SIGTERM"
for name in "${!PIDS[@]}"; do
	kill -TERM "${PIDS[$name]}"
	status=0
	wait "${PIDS[$name]}" || status=$?
	unset "PIDS[$name]"
	expect_eq "$status" 0 "$name exited 0 on SIGTERM"
done
