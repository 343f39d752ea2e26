# facility_race_test.sh — many residents racing for one slot through the hub, to an owner that
# keeps its own database (renkei-adapter-ownerdb for komae, its database beside the hub's on
# the PostgreSQL of tests/run). 200 komae residents (accounts made with `renkeictl user
# create`, tokens through the code flow) hold and confirm the same slot at once over Connect
# JSON → exactly one CONFIRMED, one 本予約 in the owner's table, every other caller a typed
# conflict (BOOKING_ERROR_SLOT_FULL or SLOT_HELD), never a 5xx; then the same with two hub
# processes on one database, the racers split between them. Then a crash: a confirm waits at a
# slow owner (the test holds the owner's row lock), the hub is killed (-9), the owner commits
# the 本予約 with no one listening; the hub restarted, its recovery sweep resumes the
# CONFIRMING row with the same key and the booking ends CONFIRMED exactly once at the hub and
# at the owner. Prints the measured times. The hubs and the adapter must exit 0 on SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/ownerdb.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"
trap 'for p in "${HUB2_PID:-}" "${OWNERDB_PID:-}"; do [[ -z $p ]] || kill -KILL "$p" 2>/dev/null || true; done; stop_everything' EXIT

RACERS=${RACERS:-200}
HUB2_PID=

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# --- the hub, the owner's adapter, the residents -------------------------------------------------
export RENKEI_PG RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
RENKEI_PG=$(fresh_db facility_race_test)
OWNER_PG=$(fresh_db facility_race_owner)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
# Every hub process here stands behind one public address (as behind a load balancer): tokens
# one issues, the others and a restarted one accept.
export RENKEI_PUBLIC_URL=http://hub.komae.test
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

cat >"$WORK/seed.sql" <<'EOF'
INSERT INTO yoyaku.shisetsu (shisetsu_cd, shisetsu_mei, shubetsu, teiin, kaikan, heikan, waku_fun,
    ryokin_shinai, ryokin_shigai) VALUES
    ('NSK-T1', '西河原公園 庭球場 A面', '庭球場', 4, '08:00', '20:00', 60, 600, 900);
EOF
cat >"$WORK/ownerdb.json" <<EOF
{"adapter": {"name": "ownerdb-komae"},
 "municipality": {"code": "132195", "slug": "komae", "name_ja": "狛江市"},
 "ownerdb": {"conninfo": "$OWNER_PG", "init_schema": 1, "seed_file": "$WORK/seed.sql"}}
EOF
ownerdb_start "$WORK/ownerdb.json"
ctl adapter register --tenant komae --name ownerdb-komae --endpoint "$OWNERDB_URL" \
	--capability facility_catalogue --capability facility_booking
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "the komae ownerdb adapter is ACTIVE"
ctl adapter sync --tenant komae --name ownerdb-komae
expect_eq "$(jq -r .added <<<"$OUT")" 1 "its facility synced"
FID=$(sql "$RENKEI_PG" "SELECT id FROM rk_facility WHERE owner_facility_id = 'NSK-T1'")

t0=$(date +%s%N)
seq 1 "$RACERS" | xargs -P 4 -I{} sh -c "printf '%s\n' '$PASSWORD' | '$CTL' --hub '$HUB_URL' user create \
	--tenant komae --username racer{} --password-stdin >/dev/null" || fail "renkeictl user create failed"
create_ms=$(ms_since "$t0")
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_account WHERE username LIKE 'racer%'")" "$RACERS" \
	"$RACERS komae residents made with renkeictl user create"
ctl client create --tenant komae --name "race site" --first-party --redirect-uri "$REDIRECT" --scope openid
CLIENT[komae]="$(jq -r .client_id <<<"$OUT") $(jq -r .client_secret <<<"$OUT")"
t0=$(date +%s%N)
mkdir "$WORK/tokens"
logins=()
for i in $(seq 1 "$RACERS"); do
	resident_token komae "racer$i" >"$WORK/tokens/$i" &
	logins+=($!)
	((${#logins[@]} % 8)) || wait "${logins[@]: -8}"
done
wait "${logins[@]}"
login_ms=$(ms_since "$t0")
expect_eq "$(cat "$WORK"/tokens/* | grep -c '^ey')" "$RACERS" "$RACERS access tokens through the code flow"
echo "  made $RACERS accounts in $create_ms ms and logged them in in $login_ms ms"

# race PREFIX SLOT_START SLOT_END URL…: every resident holds the slot and confirms what it got,
# all at once, the racers dealt round-robin to the URLs; prints the elapsed ms. Each racer
# leaves "hold STATUS REASON STATE" and maybe "confirm STATUS REASON STATE" in $WORK/PREFIX.i.
race() {
	local prefix=$1 start=$2 end=$3 urls=("${@:4}") i
	local t0
	t0=$(date +%s%N)
	for i in $(seq 1 "$RACERS"); do
		racer "$prefix" "$i" "${urls[$((i % ${#urls[@]}))]}" "$start" "$end" &
	done
	wait
	ms_since "$t0"
}

racer() { # racer PREFIX I URL START END
	local out=$WORK/$1.$2 url=$3 tok body status reason state fee
	tok=$(<"$WORK/tokens/$2")
	post() { # post METHOD JSON KEY: sets body, status, reason, state
		local raw
		raw=$(curl -s --max-time 60 -D "$out.h" -w '\n%{http_code}' -H 'content-type: application/json' \
			-H "Authorization: Bearer $tok" -H "Idempotency-Key: $3" --data-binary "$2" \
			"$url/renkei.v1.FacilityService/$1")
		status=${raw##*$'\n'}
		body=${raw%$'\n'*}
		reason=$(tr -d '\r' <"$out.h" | sed -n 's/^renkei-error-reason: //ip')
		state=$(jq -r '.booking.state // "-"' <<<"$body" 2>/dev/null || echo -)
	}
	post HoldSlot "{\"facilityId\": \"$FID\", \"time\": {\"start\": \"$4\", \"end\": \"$5\"}}" "$1-h$2"
	echo "hold $status ${reason:--} $state" >"$out"
	[[ $state == BOOKING_STATE_HELD ]] || return 0
	fee=$(jq -r '.booking.fee.amount // "0"' <<<"$body")
	post ConfirmBooking "{\"bookingId\": \"$(jq -r .booking.id <<<"$body")\", \"acceptedFee\": {\"amount\": \"$fee\"}}" "$1-c$2"
	echo "confirm $status ${reason:--} $state" >>"$out"
}

# check_race PREFIX START END WHAT: exactly one confirmed at the hub and the owner, the rest
# typed conflicts.
check_race() {
	local prefix=$1 start=$2 end=$3 what=$4
	expect_eq "$(cat "$WORK/$prefix".* | grep -c '^confirm 200 - BOOKING_STATE_CONFIRMED$')" 1 \
		"$what: exactly one resident holds and confirms the slot"
	expect_eq "$(cat "$WORK/$prefix".* | grep -c ' 5[0-9][0-9] ')" 0 "$what: no caller got a 5xx"
	expect_eq "$(grep -h '^hold' "$WORK/$prefix".* | grep -vc ' BOOKING_STATE_HELD$')" $((RACERS - 1)) \
		"$what: the $((RACERS - 1)) others were refused"
	expect_eq "$(grep -h '^hold' "$WORK/$prefix".* | grep -v ' BOOKING_STATE_HELD$' |
		awk '{print $2 " " $3}' | sort | uniq -c | grep -Ev ' (400 BOOKING_ERROR_SLOT_FULL|409 BOOKING_ERROR_SLOT_HELD)$' || true)" "" \
		"$what: each with a typed conflict (SLOT_FULL or SLOT_HELD)"
	echo "  $what, the refusals: $(grep -h '^hold' "$WORK/$prefix".* | grep -v ' BOOKING_STATE_HELD$' |
		awk '{print $3}' | sort | uniq -c | awk '{printf "%s %s  ", $1, $2}')"
	expect_eq "$(owner_sql "$OWNER_PG" "SELECT string_agg(jotai, ',') FROM yoyaku.yoyaku
		WHERE shisetsu_cd = 'NSK-T1' AND riyo_kikan && tstzrange('$start', '$end') AND jotai IN ('仮予約', '本予約')")" \
		本予約 "$what: one 本予約 in the owner's own table, nothing else live"
	expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_booking WHERE facility_id = '$FID'
		AND period && tstzrange('$start', '$end') AND state = 'confirmed'")" 1 "$what: one confirmed row at the hub"
}

# --- 1. one hub ------------------------------------------------------------------------------------
S1=$(jst 3 10:00) E1=$(jst 3 11:00)
ms=$(race r1 "$S1" "$E1" "$HUB_URL")
check_race r1 "$S1" "$E1" "one hub"
echo "  $RACERS residents raced for one slot through one hub in $ms ms"

# --- 2. two hub processes on one database ---------------------------------------------------------
HUB1_URL=$HUB_URL HUB1_PID=$HUB_PID HUB1_LOG=$HUB_LOG
HUB_LOG=$WORK/hub2.log
hub_start
HUB2_URL=$HUB_URL HUB2_PID=$HUB_PID
HUB_URL=$HUB1_URL HUB_PID=$HUB1_PID HUB_LOG=$HUB1_LOG
S2=$(jst 3 11:00) E2=$(jst 3 12:00)
ms=$(race r2 "$S2" "$E2" "$HUB1_URL" "$HUB2_URL")
check_race r2 "$S2" "$E2" "two hubs"
expect_eq "$(grep -h '^hold' "$WORK"/r2.* | wc -l)" "$RACERS" "every racer was answered"
echo "  $RACERS residents raced for one slot through two hubs in $ms ms"
kill -TERM "$HUB2_PID"
status=0
wait "$HUB2_PID" || status=$?
HUB2_PID=
[[ $status == 0 ]] || fail "the second hub exited with status $status after SIGTERM"

# --- 3. kill -9 while a confirm waits at a slow owner ----------------------------------------------
S3=$(jst 3 12:00) E3=$(jst 3 13:00)
TOKEN=$(<"$WORK/tokens/1")
call "$TOKEN" HoldSlot "{\"facilityId\": \"$FID\", \"time\": {\"start\": \"$S3\", \"end\": \"$E3\"}}" crash-h
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "racer1 holds another slot"
BK=$(jq -r .booking.id <<<"$OUT")
REF=$(jq -r .booking.ownerReference <<<"$OUT")
# The owner is slow: a session of its own holds the 予約's row lock for a while.
{
	echo "BEGIN; SELECT 1 FROM yoyaku.yoyaku WHERE yoyaku_no = $REF FOR UPDATE;"
	sleep 4
	echo "COMMIT;"
} | psql -X -q -d "$OWNER_PG" >/dev/null &
LOCKER=$!
EXTRA_PIDS+=("$LOCKER")
sleep 0.5
curl -s -o /dev/null --max-time 30 -H 'content-type: application/json' -H "Authorization: Bearer $TOKEN" \
	-H 'Idempotency-Key: crash-c' --data-binary "{\"bookingId\": \"$BK\"}" \
	"$HUB_URL/renkei.v1.FacilityService/ConfirmBooking" &
EXTRA_PIDS+=($!)
for _ in $(seq 1 50); do
	[[ $(owner_sql "$OWNER_PG" "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%renkei_link.mutation%'") == 1 ]] && break
	sleep 0.1
done
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK'")" confirming "the hub's row is CONFIRMING"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%renkei_link.mutation%'")" 1 \
	"the owner's confirm waits on the row lock"
kill -KILL "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
HUB_PID=
wait "$LOCKER" || true
for _ in $(seq 1 50); do
	[[ $(owner_sql "$OWNER_PG" "SELECT jotai FROM yoyaku.yoyaku WHERE yoyaku_no = $REF") == 本予約 ]] && break
	sleep 0.1
done
expect_eq "$(owner_sql "$OWNER_PG" "SELECT jotai FROM yoyaku.yoyaku WHERE yoyaku_no = $REF")" 本予約 \
	"with the hub dead, the owner committed the 本予約 (no one heard the answer)"
# The crashed call's lease (60 s) is what keeps other hubs off the row; let it be over now.
sql "$RENKEI_PG" "UPDATE rk_booking SET lease_until = now() - interval '1 second' WHERE id = '$BK'" >/dev/null
t0=$(date +%s%N)
RENKEI_FACILITY_BOOKING_SWEEP_MS=300 hub_start
for _ in $(seq 1 100); do
	[[ $(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK'") == confirmed ]] && break
	sleep 0.1
done
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK'")" confirmed \
	"after a restart the sweep finishes the CONFIRMING row"
echo "  the restarted hub confirmed it $(ms_since "$t0") ms after its start began"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT count(*) || ' ' || string_agg(jotai, ',') FROM yoyaku.yoyaku
	WHERE shisetsu_cd = 'NSK-T1' AND riyo_kikan && tstzrange('$S3', '$E3')")" "1 本予約" \
	"exactly one booking of that slot at the owner, 本予約"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT count(*) FROM renkei_link.idempotency WHERE method = 'ConfirmBooking' AND key = '$BK'")" 1 \
	"confirmed once under the booking's key (the sweep got the first answer again)"
call "$TOKEN" GetBooking "{\"bookingId\": \"$BK\"}"
expect_eq "$(jq -r '.booking.state + " " + .booking.ownerReference' <<<"$OUT")" "BOOKING_STATE_CONFIRMED $REF" \
	"the resident sees it CONFIRMED with the owner's 予約番号"

# --- the end: clean exits ---------------------------------------------------------------------------
ownerdb_stop
hub_stop
pass "the hub and the adapter exit cleanly"
