# sru_grpc_test.sh — a real zebrasrv (Index Data's Zebra, Debian idzebra-2.0) serving the demo
# catalogue that adapters/sru/zebra/setup builds, renkei-adapter-sru in front of it with its
# circulation in a private PostgreSQL database, and a stock gRPC client (@grpc/grpc-js,
# tests/e2e/sru_grpc.mjs): ISBN, title (Japanese, round-trip), author, keyword and subject
# searches, CQL injection, holdings per branch, patrons, holds placed, listed and replayed,
# the holds queue, hold expiry, loans; then zebrasrv stopped → UNAVAILABLE at once and health
# NOT_SERVING, and started again → SERVING (the adapter's probe) and answering. Checks that no
# PIN is stored in clear and that the adapter exits 0 on SIGTERM (the sanitizers report
# through the exit status).
# shellcheck source=tests/lib/hub.sh
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

SRU=$RENKEI_BIN_DIR/renkei-adapter-sru
CLIENT=$RENKEI_SOURCE_DIR/tests/e2e/sru_grpc.mjs
SRU_PID=
ZEBRA_PID=

stop_all() {
	[[ -z $SRU_PID ]] || kill -KILL "$SRU_PID" 2>/dev/null || true
	# zebrasrv forks a process per connection: stop its whole process group.
	[[ -z $ZEBRA_PID ]] || kill -KILL -- "-$ZEBRA_PID" 2>/dev/null || true
	cleanup
}
trap stop_all EXIT

command -v zebrasrv >/dev/null || fail "zebrasrv is missing: deploy/install-deps test installs idzebra-2.0"

"$RENKEI_SOURCE_DIR/adapters/sru/zebra/setup" "$WORK/zebra" >"$WORK/setup.log" 2>&1 ||
	fail "adapters/sru/zebra/setup: $(tail -n 5 "$WORK/setup.log")"
pass "the demo catalogues are indexed"

# zebrasrv on a free port, in its own process group (setsid).
for _ in 1 2 3 4 5; do
	ZEBRA_PORT=$((20000 + RANDOM % 20000))
	setsid zebrasrv -f "$WORK/zebra/kiyose/yazgfs.xml" -w "$WORK/zebra/kiyose" -l "$WORK/zebrasrv.log" \
		"tcp:127.0.0.1:$ZEBRA_PORT" &
	ZEBRA_PID=$!
	for _ in $(seq 1 50); do
		kill -0 "$ZEBRA_PID" 2>/dev/null || break
		[[ $(http_status "http://127.0.0.1:$ZEBRA_PORT/kiyose?version=1.1&operation=explain") == 200 ]] && break 2
		sleep 0.1
	done
	kill -KILL -- "-$ZEBRA_PID" 2>/dev/null || true
	ZEBRA_PID=
done
[[ -n $ZEBRA_PID ]] || fail "zebrasrv did not start (log: $(tail -n 5 "$WORK/zebrasrv.log"))"
pass "zebrasrv answers on port $ZEBRA_PORT"

DB=$(fresh_db sru_grpc_test)
# 清瀬市's demo configuration, with 下宿 closed to partner-area residents' pickups.
jq '.sru.branches[2].partner_pickup = false' "$RENKEI_SOURCE_DIR/adapters/sru/demo/kiyose.json" \
	>"$WORK/kiyose.json"
for _ in 1 2 3 4 5; do
	SRU_PORT=$((20000 + RANDOM % 20000))
	RENKEI_ADAPTER_PORT=$SRU_PORT RENKEI_SRU_PORT=$ZEBRA_PORT RENKEI_SRU_POSTGRES=$DB \
		RENKEI_SRU_EXPIRY_INTERVAL_MS=200 \
		"$SRU" --config "$WORK/kiyose.json" >>"$WORK/sru.log" 2>&1 &
	SRU_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$SRU_PID" 2>/dev/null || break
		[[ $(http_status "http://127.0.0.1:$SRU_PORT/healthz") == 200 ]] && break 2
		sleep 0.1
	done
	wait "$SRU_PID" 2>/dev/null || true
	SRU_PID=
	grep -q 'cannot listen' "$WORK/sru.log" || fail "the sru adapter did not start: $(tail -n 5 "$WORK/sru.log")"
done
[[ -n $SRU_PID ]] || fail "no free port for the sru adapter"
pass "renkei-adapter-sru answers on port $SRU_PORT"

node --test-reporter=spec "$CLIENT" main "127.0.0.1:$SRU_PORT" "http://127.0.0.1:$ZEBRA_PORT/kiyose" ||
	fail "grpc-js against the sru adapter: $(tail -n 5 "$WORK/sru.log")"

# READY holds past their pickup deadline expire (the adapter's timer, every 200 ms here).
expired=$(sql "$DB" "WITH u AS (UPDATE sru.hold SET expires_at = now() - interval '1 minute'
	WHERE hold_key LIKE 'queue-%' AND state = 'READY' RETURNING 1) SELECT count(*) FROM u")
[[ $expired -ge 1 ]] || fail "no READY hold of the queue test to expire"
sleep 1.5
expect_eq "$(sql "$DB" "SELECT count(*) FROM sru.hold WHERE hold_key LIKE 'queue-%' AND state = 'EXPIRED'")" \
	"$expired" "READY holds past their pickup deadline expire"

expect_eq "$(sql "$DB" "SELECT count(*) FROM sru.patron WHERE pin_hash NOT LIKE '\$2a\$%'")" 0 \
	"every PIN is stored as a bcrypt hash"
expect_eq "$(sql "$DB" "SELECT count(*) FROM sru.patron p WHERE p.pin_hash LIKE '%1234%' OR p.card_hash::text LIKE '%1322170001%'")" 0 \
	"neither the PIN nor the card number is stored in clear"
if grep -q -e '1322170001' -e '"1234"' "$WORK/sru.log"; then
	fail "a card number or PIN reached the adapter's log"
fi
pass "no card number or PIN in the adapter's log"

kill -KILL -- "-$ZEBRA_PID"
wait "$ZEBRA_PID" 2>/dev/null || true
ZEBRA_PID=
node --test-reporter=spec "$CLIENT" down "127.0.0.1:$SRU_PORT" || fail "zebrasrv stopped"

setsid zebrasrv -f "$WORK/zebra/kiyose/yazgfs.xml" -w "$WORK/zebra/kiyose" -l "$WORK/zebrasrv.log" \
	"tcp:127.0.0.1:$ZEBRA_PORT" &
ZEBRA_PID=$!
node --test-reporter=spec "$CLIENT" up "127.0.0.1:$SRU_PORT" || fail "zebrasrv started again"
kill -KILL -- "-$ZEBRA_PID"
wait "$ZEBRA_PID" 2>/dev/null || true
ZEBRA_PID=

kill -TERM "$SRU_PID"
status=0
wait "$SRU_PID" || status=$?
SRU_PID=
expect_eq "$status" 0 "the sru adapter drained and exited 0 after SIGTERM"
