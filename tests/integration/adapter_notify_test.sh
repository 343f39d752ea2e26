# adapter_notify_test.sh — two renkeid processes on one real PostgreSQL (tests/run's) and a
# renkei-adapter-sim: an adapter registered through hub A is usable through hub B (renkeictl
# adapter sync on B reaches the sim over B's own registry channel) within 1 s, and a disable
# through A takes it out of B within 1 s. The poll (federation.refresh_ms) is set to an hour,
# so only LISTEN/NOTIFY (migration 0007, hub/store/listen.c) can carry the change. Then B's
# listener backend is terminated and a change is committed before it can reconnect: its
# notification is lost to B, which must still follow it, from the refresh it runs once LISTEN
# is back. Both hubs and the sim must exit 0 on SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
CTL=$RENKEI_BIN_DIR/renkeictl
SIM_PID=
A_PID=
B_PID=

stop_everything() {
	local pid
	for pid in $SIM_PID $A_PID $B_PID; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	cleanup
}
trap stop_everything EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ctl URL ARGS…: renkeictl --json against one hub; sets OUT and RC.
ctl() {
	local url=$1
	shift
	RC=0
	OUT=$("$CTL" --hub "$url" --json "$@" 2>"$WORK/ctl.err") || RC=$?
}

# within_1s WHAT COMMAND…: runs COMMAND every 20 ms until it succeeds; fails after 1 s.
# Prints how long it took.
within_1s() {
	local what=$1 started
	shift
	started=$(now_ms)
	until "$@"; do
		(($(now_ms) - started < 1000)) || fail "$what: not within 1 s (last answer: $OUT)"
		sleep 0.02
	done
	pass "$what, after $(($(now_ms) - started)) ms"
}

synced_on_b() {
	ctl "$B_URL" adapter sync --tenant chofu --name "$1"
	[[ $RC == 0 ]]
}
breaker_on_b() { # breaker_on_b NAME EXPECTED: B's registry holds NAME (CLOSED) or not ("none")
	ctl "$B_URL" adapter list --tenant chofu
	[[ $(jq -r --arg n "$1" '.adapters[] | select(.name == $n) | .breaker // "none"' <<<"$OUT") == "$2" ]]
}

# --- the sim, and two hubs on one database ---------------------------------------------------
for _ in 1 2 3 4 5; do
	sim_port=$((20000 + RANDOM % 20000))
	RENKEI_ADAPTER_PORT=$sim_port "$SIM" --config "$RENKEI_SOURCE_DIR/adapters/sim/demo/chofu.json" \
		>"$WORK/sim.log" 2>&1 &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$SIM_PID" 2>/dev/null || break
		curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$sim_port/healthz" && break 2
		sleep 0.1
	done
	kill -0 "$SIM_PID" 2>/dev/null && fail "the sim did not answer within 10 s"
	wait "$SIM_PID" 2>/dev/null || true
	SIM_PID=
done
[[ -n $SIM_PID ]] || fail "the sim did not start"

export RENKEI_PG
RENKEI_PG=$(fresh_db adapter_notify_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_REFRESH_MS=3600000
HUB_LOG=$WORK/hub-a.log
hub_start
A_PID=$HUB_PID A_URL=$HUB_URL
HUB_LOG=$WORK/hub-b.log # fail() shows the last lines of B's log from here on
RENKEI_PG="$RENKEI_PG application_name=hub_b" hub_start # its backends are told apart
B_PID=$HUB_PID B_URL=$HUB_URL
HUB_PID=
for log in "$WORK/hub-a.log" "$WORK/hub-b.log"; do
	for _ in $(seq 1 100); do
		grep -q '"database listener ready"' "$log" && break
		sleep 0.05
	done
	grep -q '"database listener ready"' "$log" || fail "no listener in $log"
done
pass "both hubs listen"

# --- 1. registered through A, usable through B ---------------------------------------------------
ctl "$A_URL" adapter register --tenant chofu --name sim-chofu --endpoint "http://127.0.0.1:$sim_port"
[[ $RC == 0 && $(jq -r .adapter.state <<<"$OUT") == ADAPTER_STATE_ACTIVE ]] ||
	fail "register on hub A: $OUT $(cat "$WORK/ctl.err")"
pass "registered and activated through hub A"
within_1s "hub B syncs the adapter registered through hub A" synced_on_b sim-chofu
expect_match "$(jq -r .finishedAt <<<"$OUT")" '^20[0-9-]+T' "B's sync of the sim finished"

# --- 2. disabled through A, gone from B ----------------------------------------------------------
ctl "$A_URL" adapter disable --tenant chofu --name sim-chofu
[[ $RC == 0 ]] || fail "disable on hub A: $OUT"
within_1s "hub B drops the adapter disabled through hub A" breaker_on_b sim-chofu none
ctl "$B_URL" adapter sync --tenant chofu --name sim-chofu
expect_match "$(jq -r .message <<<"$OUT")" 'is disabled, not active' "hub B no longer syncs it"

# --- 3. a notification lost while B's listener is away -----------------------------------------
# B's listener backend is terminated and the change commits in the same transaction, a
# millisecond later, while B waits out its first reconnect backoff (50 ms). A LISTEN skips
# notifications committed before it (PostgreSQL's async.c): B never hears of this one.
sql "$RENKEI_PG" "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
	WHERE application_name = 'hub_b' AND query LIKE 'LISTEN%';
	UPDATE rk_adapter SET state = 'active', revision = revision + 1 WHERE name = 'sim-chofu'" >/dev/null
within_1s "hub B follows a change whose notification was lost, once it listens again" \
	breaker_on_b sim-chofu BREAKER_STATE_CLOSED
expect_match "$(grep -c '"database listener lost"' "$WORK/hub-b.log")" '^[1-9]' "hub B saw its listener go"

for pid in "$A_PID" "$B_PID"; do
	HUB_PID=$pid
	hub_stop
done
A_PID=""
B_PID=""
pass "both hubs exited 0 on SIGTERM"
kill -TERM "$SIM_PID"
status=0
wait "$SIM_PID" || status=$?
SIM_PID=
expect_eq "$status" 0 "the sim exited 0 on SIGTERM"
