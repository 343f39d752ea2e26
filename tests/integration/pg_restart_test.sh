# pg_restart_test.sh — PostgreSQL restarts under load (the real server of tests/run, restarted
# with deploy/pgctl): no request hangs, requests during the outage get 503 quickly, /readyz
# flips to 503 and back, and the hub recovers by itself without a restart.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
: "${RENKEI_TEST_PGCTL:?}" "${RENKEI_TEST_PGDATA:?}"

export RENKEI_PG
RENKEI_PG=$(fresh_db pg_restart_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_PG_RECONNECT_MAX_MS=300
hub_start

# Load: four clients each asking /readyz (one query each) in a loop; every answer must come
# within 2 s, as 200 or 503.
load() {
	local out=$1 end=$((SECONDS + $2))
	while ((SECONDS < end)); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' --max-time 2 "$HUB_URL/readyz" >>"$out" || echo "000 timeout" >>"$out"
	done
}
loaders=()
for i in 1 2 3 4; do
	load "$WORK/load.$i" 12 &
	loaders+=($!)
done
sleep 2
"$RENKEI_TEST_PGCTL" stop "$RENKEI_TEST_PGDATA" "$RENKEI_TEST_PGSOCK" >/dev/null
sleep 1
down_status=$(http_status "$HUB_URL/readyz")
down_time=$(curl -s -o /dev/null -w '%{time_total}' --max-time 5 "$HUB_URL/readyz")
"$RENKEI_TEST_PGCTL" start "$RENKEI_TEST_PGDATA" "$RENKEI_TEST_PGSOCK" >/dev/null
wait "${loaders[@]}"

expect_eq "$down_status" 503 "readyz is 503 while PostgreSQL is down"
awk -v t="$down_time" 'BEGIN { exit !(t < 0.5) }' || fail "503 took $down_time s"
pass "503 comes quickly ($down_time s)"
cat "$WORK"/load.* >"$WORK/all"
total=$(wc -l <"$WORK/all")
hung=$(grep -c '^000' "$WORK/all" || true)
ok=$(grep -c '^200' "$WORK/all" || true)
unavailable=$(grep -c '^503' "$WORK/all" || true)
echo "requests: $total, 200: $ok, 503: $unavailable, no answer: $hung"
expect_eq "$hung" 0 "no request hung during the restart"
expect_eq "$((ok + unavailable))" "$total" "every answer was 200 or 503"
((unavailable > 0)) || fail "no 503 seen: the outage was not observed"
pass "the outage was observed"

# Recovery without restarting the hub.
for i in $(seq 1 50); do
	[[ $(http_status "$HUB_URL/readyz") == 200 ]] && break
	sleep 0.1
done
expect_eq "$(http_status "$HUB_URL/readyz")" 200 "readyz is 200 again after PostgreSQL returns"
expect_eq "$(curl -s "$HUB_URL/api/v1/tenants" | jq '.tenants | length')" 8 "tenant list still served"
grep -q '"msg":"database connection lost"' "$HUB_LOG" || fail "the loss was not logged"
pass "the loss was logged"
hub_stop
