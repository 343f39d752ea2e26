# facility_availability_test.sh — starts renkeid on the real PostgreSQL of tests/run and three
# renkei-adapter-sim processes (chofu, komae, kiyose), registers and syncs them with renkeictl,
# makes komae hang (3 s of latency) and runs tests/e2e/facility_availability.mjs: a stock
# gRPC client's GetAvailability with deadlines of 300 and 600 ms answers within each, komae
# TIMEOUT and the others OK (the cache is off, so every call asks the owners live); and a
# WatchAvailability stream (polling every 300 ms, at most 8 s) sees a hold placed at the owner.
# The hub and the sims must exit 0 on SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
CTL=$RENKEI_BIN_DIR/renkeictl
declare -A SIM_PIDS=() SIM_PORTS=()

stop_everything() {
	local pid
	for pid in "${SIM_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	cleanup
}
trap stop_everything EXIT

# sim_start NAME CONFIG_JSON [PORT]: a sim on PORT or a free port, once its /healthz answers.
sim_start() {
	local name=$1 want_port=${3:-} port
	printf '%s\n' "$2" >"$WORK/$name.json"
	for _ in 1 2 3 4 5; do
		port=${want_port:-$((20000 + RANDOM % 20000))}
		RENKEI_ADAPTER_PORT=$port "$SIM" --config "$WORK/$name.json" >>"$WORK/$name.log" 2>&1 &
		SIM_PIDS[$name]=$!
		SIM_PORTS[$name]=$port
		for _ in $(seq 1 100); do
			kill -0 "${SIM_PIDS[$name]}" 2>/dev/null || break
			curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/healthz" && return 0
			sleep 0.1
		done
		kill -0 "${SIM_PIDS[$name]}" 2>/dev/null && fail "sim $name did not answer within 10 s"
		wait "${SIM_PIDS[$name]}" || true
		[[ -z $want_port ]] || fail "sim $name cannot listen on its port $want_port again"
	done
	fail "no free port for sim $name"
}

sim_stop() {
	local status=0
	kill -TERM "${SIM_PIDS[$1]}"
	wait "${SIM_PIDS[$1]}" || status=$?
	unset "SIM_PIDS[$1]"
	expect_eq "$status" 0 "sim $1 exited 0 on SIGTERM"
}

export RENKEI_PG
RENKEI_PG=$(fresh_db facility_availability_e2e)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
export RENKEI_FACILITY_AVAILABILITY_CACHE_TTL_MS=0 # every call asks the owners
export RENKEI_FACILITY_BREAKER_FAILURES=1000       # komae keeps being asked, and timing out
export RENKEI_FACILITY_BREAKER_FAILURE_RATE=100
export RENKEI_FACILITY_BREAKER_WINDOW=64
export RENKEI_FACILITY_WATCH_POLL_MS=300
export RENKEI_FACILITY_WATCH_MAX_MS=8000
hub_start

declare -A CODES=([chofu]=132080 [komae]=132195 [kiyose]=132217) IDS=()
for c in chofu komae kiyose; do
	sim_start "$c" "{\"adapter\": {\"name\": \"sim-$c\"}, \"municipality\": {\"code\": \"${CODES[$c]}\", \"slug\": \"$c\"}, \"sim\": {\"facilities\": {\"count\": 5}}}"
	"$CTL" --hub "$HUB_URL" --json adapter register --tenant "$c" --name "sim-$c" \
		--endpoint "http://127.0.0.1:${SIM_PORTS[$c]}" --capability facility_catalogue \
		--capability facility_availability >"$WORK/ctl.out" || fail "register $c: $(cat "$WORK/ctl.out")"
	"$CTL" --hub "$HUB_URL" --json adapter sync --tenant "$c" --name "sim-$c" >"$WORK/ctl.out" ||
		fail "sync $c: $(cat "$WORK/ctl.out")"
	IDS[$c]=$(sql "$RENKEI_PG" "SELECT string_agg(f.id::text, ',') FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = 'sim-$c'")
done
sim_stop komae
sim_start komae "{\"adapter\": {\"name\": \"sim-komae\"}, \"municipality\": {\"code\": \"132195\", \"slug\": \"komae\"}, \"sim\": {\"facilities\": {\"count\": 5}, \"faults\": {\"latency\": {\"distribution\": \"fixed\", \"fixed_ms\": 3000}}}}" \
	"${SIM_PORTS[komae]}"

node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/facility_availability.mjs" \
	"127.0.0.1:$HUB_PORT" "${IDS[chofu]}" "${IDS[komae]}" "${IDS[kiyose]}" \
	"http://127.0.0.1:${SIM_PORTS[chofu]}" \
	"$(sql "$RENKEI_PG" "SELECT owner_facility_id FROM rk_facility WHERE id = ${IDS[chofu]%%,*}")" ||
	fail "GetAvailability and WatchAvailability through grpc-js"

hub_stop
pass "renkeid exits 0 on SIGTERM"
for c in chofu komae kiyose; do
	sim_stop "$c"
done
