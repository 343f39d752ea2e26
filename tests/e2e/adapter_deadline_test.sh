# adapter_deadline_test.sh — starts renkeid on the real PostgreSQL of tests/run, a healthy
# renkei-adapter-sim, one with 800 ms of injected latency and a silent socket, and runs
# tests/e2e/adapter_deadline.mjs: RegisterAdapter and EnableAdapter with deadlines shorter than
# an activation may take answer within them (PENDING, the outcome stored after the call), and
# one with less than 50 ms left is DEADLINE_EXCEEDED and writes nothing. Then the hub must
# exit 0 on SIGTERM while an activation is still going on after its call.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
declare -A SIM_PIDS=()
SILENT_PID=

stop_everything() {
	local pid
	for pid in "${SIM_PIDS[@]}" $SILENT_PID; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	cleanup
}
trap stop_everything EXIT

chofu='"municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu", "name_kana": "チョウフシ"}'

# sim_start NAME CONFIG_JSON: a sim on a free port; sets SIM_PORT.
sim_start() {
	local name=$1
	printf '%s\n' "$2" >"$WORK/$name.json"
	for _ in 1 2 3 4 5; do
		SIM_PORT=$((20000 + RANDOM % 20000))
		RENKEI_ADAPTER_PORT=$SIM_PORT "$SIM" --config "$WORK/$name.json" >"$WORK/$name.log" 2>&1 &
		SIM_PIDS[$name]=$!
		for _ in $(seq 1 100); do
			kill -0 "${SIM_PIDS[$name]}" 2>/dev/null || break
			curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$SIM_PORT/healthz" && return 0
			sleep 0.1
		done
		kill -0 "${SIM_PIDS[$name]}" 2>/dev/null && fail "sim $name did not answer within 10 s"
		wait "${SIM_PIDS[$name]}" || true
	done
	fail "no free port for sim $name"
}

sim_start fast "{$chofu}"
fast_port=$SIM_PORT
sim_start slow "{$chofu, \"sim\": {\"faults\": {\"latency\": {\"distribution\": \"fixed\", \"fixed_ms\": 800}}}}"
slow_port=$SIM_PORT
python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$WORK/silent.port" &
SILENT_PID=$!
for _ in $(seq 1 50); do [[ -s $WORK/silent.port ]] && break; sleep 0.1; done
silent_port=$(cat "$WORK/silent.port")

export RENKEI_PG
RENKEI_PG=$(fresh_db adapter_deadline_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
hub_start
node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/adapter_deadline.mjs" "$HUB_URL" \
	"$fast_port" "$slow_port" "$silent_port" || fail "deadlines of activation calls"

# Shutdown while an activation goes on after its call (its probe has a second to run).
answer=$(curl -s -H 'content-type: application/json' -H 'connect-timeout-ms: 200' \
	-H "authorization: Bearer $RENKEI_ADMIN_TOKEN" \
	-d "{\"tenant\": \"chofu\", \"name\": \"silent-2\", \"endpoint\": \"http://127.0.0.1:$silent_port\"}" \
	"$HUB_URL/renkei.v1.AdminService/RegisterAdapter")
expect_eq "$(jq -r .adapter.state <<<"$answer")" ADAPTER_STATE_PENDING "a last silent endpoint: PENDING"
hub_stop
pass "the hub exited 0 on SIGTERM with that activation still going on"
for name in "${!SIM_PIDS[@]}"; do
	kill -TERM "${SIM_PIDS[$name]}"
	status=0
	wait "${SIM_PIDS[$name]}" || status=$?
	unset "SIM_PIDS[$name]"
	expect_eq "$status" 0 "sim $name exited 0 on SIGTERM"
done
