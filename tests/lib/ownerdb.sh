# tests/lib/ownerdb.sh — shared by the shell tests that run renkei-adapter-ownerdb: start and
# stop the adapter, and query the owner's own database. Source it after tests/lib/hub.sh; it
# replaces hub.sh's EXIT trap with one that also kills the adapter (and runs OWNERDB_AT_EXIT,
# a command the test sets, e.g. to stop a private PostgreSQL).
# shellcheck shell=bash

OWNERDB=$RENKEI_BIN_DIR/renkei-adapter-ownerdb
OWNERDB_PID=
OWNERDB_AT_EXIT=${OWNERDB_AT_EXIT:-}

ownerdb_stop_everything() {
	[[ -z $OWNERDB_PID ]] || kill -KILL "$OWNERDB_PID" 2>/dev/null || true
	[[ -z $OWNERDB_AT_EXIT ]] || eval "$OWNERDB_AT_EXIT" >/dev/null 2>&1 || true
	cleanup
}
trap ownerdb_stop_everything EXIT

# ownerdb_start CONFIG_FILE: the adapter on a free port, until /healthz answers; sets
# OWNERDB_PORT and OWNERDB_URL. Its log is $WORK/ownerdb.log.
ownerdb_start() {
	for _ in 1 2 3 4 5; do
		OWNERDB_PORT=$((20000 + RANDOM % 20000))
		OWNERDB_URL=http://127.0.0.1:$OWNERDB_PORT
		RENKEI_ADAPTER_PORT=$OWNERDB_PORT "$OWNERDB" --config "$1" >>"$WORK/ownerdb.log" 2>&1 &
		OWNERDB_PID=$!
		for _ in $(seq 1 100); do
			kill -0 "$OWNERDB_PID" 2>/dev/null || break
			[[ $(http_status "$OWNERDB_URL/healthz") == 200 ]] && return 0
			sleep 0.1
		done
		kill -0 "$OWNERDB_PID" 2>/dev/null && fail "the ownerdb adapter did not answer within 10 s"
		wait "$OWNERDB_PID" || true
		OWNERDB_PID=
		grep -q 'cannot listen' "$WORK/ownerdb.log" ||
			fail "the ownerdb adapter exited: $(tail -n 3 "$WORK/ownerdb.log")"
	done
	fail "no free port for the ownerdb adapter"
}

# ownerdb_stop: SIGTERM; the exit status must be 0 (the sanitizers report through it).
ownerdb_stop() {
	kill -TERM "$OWNERDB_PID"
	local status=0
	wait "$OWNERDB_PID" || status=$?
	OWNERDB_PID=
	[[ $status == 0 ]] || fail "the ownerdb adapter exited with status $status after SIGTERM"
}

# owner_sql CONNINFO QUERY: one unaligned result from the owner's database.
owner_sql() { psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

# jst DAYS HH:MM: that Japan time DAYS days from today, as RFC 3339 UTC.
jst() { date -u -d "$(TZ=Asia/Tokyo date -d "+$1 days" +%F) $2 +0900" +%FT%TZ; }
