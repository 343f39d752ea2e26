# sim_python_test.sh — Debian's python3-grpcio (tests/e2e/sim_python.py) against an adapter on
# the SDK: renkei-adapter-sim as chofu, its library switched off, 600 ms of injected latency on
# every call, and an outage file the test creates.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

outage=$WORK/outage
for attempt in 1 2 3 4 5; do
	port=$((20000 + RANDOM % 20000))
	cat >"$WORK/sim.json" <<JSON
{"adapter": {"name": "sim-python"}, "municipality": {"code": "132080", "slug": "chofu"},
 "listen": {"host": "127.0.0.1", "port": $port},
 "sim": {"library": {"enabled": false},
         "faults": {"latency": {"distribution": "fixed", "fixed_ms": 600, "jitter_ms": 0},
                    "outage_file": "$outage"}}}
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
/usr/bin/python3 "$RENKEI_SOURCE_DIR/tests/e2e/sim_python.py" "127.0.0.1:$port" "$outage" ||
	fail "python grpcio against the sim"
kill -TERM "$sim"
wait "$sim" || fail "the sim did not exit 0 on SIGTERM"
pass "the sim exited 0"
