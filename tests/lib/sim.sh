# tests/lib/sim.sh — shared by the shell tests that run renkei-adapter-sim processes and drive
# the hub with renkeictl: start and stop sims, and run renkeictl --json with readable failures.
# Source it after tests/lib/hub.sh; it replaces hub.sh's EXIT trap with one that also kills
# every sim still running (a test that starts other processes adds them to EXTRA_PIDS).
# shellcheck shell=bash

SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
CTL=$RENKEI_BIN_DIR/renkeictl
# shellcheck disable=SC2034 # SIM_PORTS is for the tests that source this
declare -A SIM_PIDS=() SIM_PORTS=()
EXTRA_PIDS=()

stop_everything() {
	local pid
	for pid in "${SIM_PIDS[@]}" "${EXTRA_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	cleanup
}
trap stop_everything EXIT

# sim_start NAME CONFIG_JSON [PORT] [VAR=value…]: starts a sim (on PORT, or a free port) with
# those variables; waits for its /healthz (over TLS when RENKEI_ADAPTER_TLS_CERT is among them,
# with $WORK/ca.pem, hub.pem and hub.key); sets SIM_PORT and SIM_PORTS[NAME].
sim_start() {
	local name=$1 config=$2 want_port=
	shift 2
	if [[ $# -gt 0 && $1 != *=* ]]; then
		want_port=$1
		shift
	fi
	local curl_args=(-s -o /dev/null --max-time 2) scheme=http host=127.0.0.1
	if [[ " $* " == *" RENKEI_ADAPTER_TLS_CERT="* ]]; then
		curl_args+=(--cacert "$WORK/ca.pem" --cert "$WORK/hub.pem" --key "$WORK/hub.key")
		scheme=https host=localhost
	fi
	printf '%s\n' "$config" >"$WORK/$name.json"
	for _ in 1 2 3 4 5; do
		SIM_PORT=${want_port:-$((20000 + RANDOM % 20000))}
		env "$@" RENKEI_ADAPTER_PORT="$SIM_PORT" "$SIM" --config "$WORK/$name.json" \
			>>"$WORK/$name.log" 2>&1 &
		SIM_PIDS[$name]=$!
		SIM_PORTS[$name]=$SIM_PORT
		for _ in $(seq 1 100); do
			kill -0 "${SIM_PIDS[$name]}" 2>/dev/null || break
			if curl "${curl_args[@]}" "$scheme://$host:$SIM_PORT/healthz"; then
				return 0
			fi
			sleep 0.1
		done
		kill -0 "${SIM_PIDS[$name]}" 2>/dev/null && fail "sim $name did not answer within 10 s"
		wait "${SIM_PIDS[$name]}" || true
		grep -q 'cannot listen' "$WORK/$name.log" || fail "sim $name exited during start-up"
		[[ -z $want_port ]] || fail "sim $name cannot listen on its port $want_port again"
	done
	fail "no free port for sim $name after 5 attempts"
}

# sim_stop NAME: SIGTERM; the sim must exit 0 (the sanitizers report through it).
sim_stop() {
	local name=$1 status=0
	kill -TERM "${SIM_PIDS[$name]}"
	wait "${SIM_PIDS[$name]}" || status=$?
	unset "SIM_PIDS[$name]"
	[[ $status == 0 ]] || fail "sim $name exited with status $status after SIGTERM"
}

# ctl ARGS…: renkeictl --json against the hub; sets OUT (its one JSON object) and RC.
ctl() {
	RC=0
	OUT=$("$CTL" --hub "$HUB_URL" --json "$@" 2>"$WORK/ctl.err") || RC=$?
	jq -e 'type == "object"' <<<"$OUT" >/dev/null ||
		fail "renkeictl $* did not print one JSON object: '$OUT' $(cat "$WORK/ctl.err")"
}

expect_ok() { # expect_ok WHAT ARGS…
	local what=$1
	shift
	ctl "$@"
	[[ $RC == 0 ]] || fail "$what: renkeictl exited $RC: $OUT"
}
