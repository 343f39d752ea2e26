# h2_keepalive_test.sh — the hub PINGs an HTTP/2 client that holds a stream open, and closes
# the connection when the PING goes unanswered (tests/integration/h2_keepalive.py plays a
# client whose host vanished); the hub itself carries on and exits 0.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db h2_keepalive_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_IDLE_TIMEOUT_MS=500
hub_start
out=$(/usr/bin/python3 "$RENKEI_SOURCE_DIR/tests/integration/h2_keepalive.py" "$HUB_PORT")
echo "$out"
expect_match "$out" 'DATA' "the Watch stream delivered its first message"
expect_match "$out" 'PING' "the hub sent a keepalive PING"
seconds=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' <<<"$out")
awk -v s="$seconds" 'BEGIN { exit !(s >= 0.4 && s < 3) }' ||
	fail "the silent client was closed after $seconds s, expected about 1 s (two PING intervals)"
pass "the silent client was closed after $seconds s"
expect_eq "$(http_status "$HUB_URL/healthz" --http2-prior-knowledge)" 200 "the hub carries on"
hub_stop
