# facility_booking_test.sh — the booking broker end to end: renkeid on the real PostgreSQL of
# tests/run and a renkei-adapter-sim for chofu (occupancy 0, so every slot in the window is
# free at the owner), registered for catalogue and booking and synced. Two chofu residents log
# in through the hub's login page (curl as a browser) and call FacilityService over Connect
# JSON: no token → UNAUTHENTICATED with ERROR_REASON_LOGIN_REQUIRED; HoldSlot → HELD with the
# owner's reference and fee; the same Idempotency-Key again → the same booking; the key with
# another request → ALREADY_EXISTS / IDEMPOTENCY_KEY_REUSED; the other resident on the same
# slot → BOOKING_ERROR_SLOT_FULL (the exclusion constraint); both racing for a fresh slot at
# once → exactly one HELD; ConfirmBooking → CONFIRMED once at the owner (its GetBooking by
# key); GetBooking of someone else's booking → NOT_FOUND; the owner down during a confirm →
# UNAVAILABLE, the row stays CONFIRMING, and the same call after the owner is back confirms
# it; the owner down during a hold → UNAVAILABLE and a FAILED row that no longer blocks the
# slot; CancelBooking → CANCELLED at the hub and the owner, the slot free to hold again, a
# repeated cancel answering the same, someone else's → NOT_FOUND, past the deadline →
# CANCELLATION_CLOSED, the owner down → UNAVAILABLE with the row CANCELLING until the same call
# finishes it; ListMyBookings → only the caller's, newest first, in pages that add up;
# a revoked grant → LOGIN_REQUIRED; the hub killed (-9) with a row CONFIRMING and a hold past its
# expiry, restarted with a short facility.booking_sweep_ms → the sweep confirms the row (once at
# the owner) and expires the hold, releasing it at the owner. The hub and the sim must exit 0 on
# SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
CTL=$RENKEI_BIN_DIR/renkeictl
SIM_PID=

stop_everything() {
	[[ -z $SIM_PID ]] || kill -KILL "$SIM_PID" 2>/dev/null || true
	cleanup
}
trap stop_everything EXIT

sim_start() { # sim_start PORT: the chofu sim on PORT (0 = a free one); sets SIM_PORT
	local want=$1
	for _ in 1 2 3 4 5; do
		SIM_PORT=$want
		[[ $want != 0 ]] || SIM_PORT=$((20000 + RANDOM % 20000))
		RENKEI_ADAPTER_PORT=$SIM_PORT "$SIM" --config "$WORK/sim.json" >>"$WORK/sim.log" 2>&1 &
		SIM_PID=$!
		for _ in $(seq 1 100); do
			kill -0 "$SIM_PID" 2>/dev/null || break
			curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$SIM_PORT/healthz" && return 0
			sleep 0.1
		done
		kill -0 "$SIM_PID" 2>/dev/null && fail "the sim did not answer within 10 s"
		wait "$SIM_PID" || true
		[[ $want == 0 ]] || fail "the sim cannot listen on its port $want again"
	done
	fail "no free port for the sim"
}

ctl() {
	RC=0
	OUT=$("$CTL" --hub "$HUB_URL" --json "$@" 2>"$WORK/ctl.err") || RC=$?
	[[ $RC == 0 ]] || fail "renkeictl $*: exit $RC: $OUT $(cat "$WORK/ctl.err")"
}

# owner METHOD JSON: the sim's AdapterService directly; prints the answer.
owner() {
	curl -s --max-time 10 -H 'content-type: application/json' --data-binary "$2" \
		"http://127.0.0.1:$SIM_PORT/renkei.v1.AdapterService/$1"
}

# --- the hub, the sim, two residents ------------------------------------------------------------
export RENKEI_PG
RENKEI_PG=$(fresh_db facility_booking_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

cat >"$WORK/sim.json" <<EOF
{"adapter": {"name": "sim-chofu"},
 "municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu", "name_kana": "チョウフシ"},
 "sim": {"facilities": {"count": 20, "occupancy_percent": 0}, "library": {"enabled": false},
         "faults": {"outage_file": "$WORK/outage"}}}
EOF
sim_start 0
ctl adapter register --tenant chofu --name sim-chofu --endpoint "http://127.0.0.1:$SIM_PORT" \
	--capability facility_catalogue --capability facility_booking
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "the chofu sim is ACTIVE"
ctl adapter sync --tenant chofu --name sim-chofu
expect_eq "$(jq -r .added <<<"$OUT")" 20 "20 facilities synced"

resident_add chofu alice
resident_add chofu bob
ALICE=$(resident_token chofu alice)
BOB=$(resident_token chofu bob)
[[ $ALICE == ey* && $BOB == ey* ]] || fail "no access tokens for the residents"

# A bookable, open-to-all facility and its first free slots three days ahead (owner ids).
read -r FID OWNER_FID < <(sql "$RENKEI_PG" "SELECT id, owner_facility_id FROM rk_facility WHERE bookable_via_hub ORDER BY id" | tr '|' ' ' | head -1)
[[ -n $FID ]] || fail "no bookable facility in the catalogue"
from=$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)
to=$(date -u -d '+5 days' +%Y-%m-%dT00:00:00Z)
slots=$(owner GetAvailability "{\"facilityIds\": [\"$OWNER_FID\"], \"window\": {\"start\": \"$from\", \"end\": \"$to\"},
	\"resident\": {\"pairwiseId\": \"probe\", \"residencyClass\": \"RESIDENCY_CLASS_RESIDENT\", \"homeMunicipality\": {\"code\": \"132080\"}}}" |
	jq -c '[.facilities[0].slots[] | select(.status == "SLOT_STATUS_AVAILABLE") | .time]')
(($(jq length <<<"$slots") >= 4)) || fail "fewer than 4 free slots at the owner: $slots"
slot() { jq -c ".[$1]" <<<"$slots"; }
hold() { # hold TOKEN KEY SLOT_INDEX
	call "$1" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(slot "$3"), \"attendees\": 2, \"purpose\": \"練習\"}" "$2"
}

# --- 1. no token ---------------------------------------------------------------------------------
hold "" k-none 0
expect_eq "$STATUS:$(jq -r .code <<<"$OUT")" 401:unauthenticated "no token → UNAUTHENTICATED"
expect_eq "$REASON" ERROR_REASON_LOGIN_REQUIRED "with ERROR_REASON_LOGIN_REQUIRED"
hold "${ALICE:0:${#ALICE}-10}$([[ ${ALICE:${#ALICE}-10:1} == A ]] && echo B || echo A)${ALICE:${#ALICE}-9}" k-none 0
expect_eq "$REASON" ERROR_REASON_LOGIN_REQUIRED "a tampered token → LOGIN_REQUIRED"
call "$ALICE" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(slot 0)}"
expect_eq "$STATUS" 400 "no idempotency key → INVALID_ARGUMENT"
expect_match "$(jq -r .message <<<"$OUT")" '^idempotency_key:' "naming the field"
call "$ALICE" HoldSlot "{\"facilityId\": \"$FID\", \"time\": {\"start\": \"$to\", \"end\": \"$from\"}}" k-bad
expect_match "$(jq -r .message <<<"$OUT")" '^time.end: must be after' "a reversed range names time.end"

# --- 2. hold, idempotent retry, key reuse --------------------------------------------------------
hold "$ALICE" k-a1 0
expect_eq "$STATUS" 200 "alice holds slot 0: $OUT"
expect_eq "$(jq -r .booking.state <<<"$OUT")" BOOKING_STATE_HELD "the booking is HELD"
BK=$(jq -r .booking.id <<<"$OUT")
REF=$(jq -r .booking.ownerReference <<<"$OUT")
FEE=$(jq -r '.booking.fee.amount // "0"' <<<"$OUT")
expect_match "$REF" '.+' "the owner's reference is stored"
expect_match "$(jq -r .booking.holdExpiresAt <<<"$OUT")" '^20..-..-..T..:..:..Z$' "hold_expires_at is set"
hold "$ALICE" k-a1 0
expect_eq "$STATUS:$(jq -r .booking.id <<<"$OUT")" "200:$BK" "the same key and request → the same booking"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_booking")" 1 "one row for the retried hold"
hold "$ALICE" k-a1 1
expect_eq "$STATUS:$(jq -r .code <<<"$OUT")" 409:already_exists "the key with another request → ALREADY_EXISTS"
expect_eq "$REASON" ERROR_REASON_IDEMPOTENCY_KEY_REUSED "with IDEMPOTENCY_KEY_REUSED"

# --- 3. someone else on the same slot; a race for a fresh one -----------------------------------
hold "$BOB" k-b1 0
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_SLOT_FULL "bob on alice's slot → SLOT_FULL (failed_precondition)"
expect_match "$(jq -r '.details[0].debug.localizedMessage.ja' <<<"$OUT")" '予約' "with a Japanese message"
hold "$BOB" k-b1 0
expect_eq "$REASON" BOOKING_ERROR_SLOT_FULL "bob's retry with his key answers the same"
racers=()
for who in ALICE BOB; do
	(
		tok=${!who}
		curl -s --max-time 20 -o "$WORK/race.$who" -H 'content-type: application/json' \
			-H "Authorization: Bearer $tok" -H "Idempotency-Key: race-$who" \
			--data-binary "{\"facilityId\": \"$FID\", \"time\": $(slot 2)}" \
			"$HUB_URL/renkei.v1.FacilityService/HoldSlot"
	) &
	racers+=($!)
done
wait "${racers[@]}"
held=$(cat "$WORK/race.ALICE" "$WORK/race.BOB" | jq -s '[.[] | select(.booking.state == "BOOKING_STATE_HELD")] | length')
expect_eq "$held" 1 "two residents racing for one slot: exactly one holds it"
expect_eq "$(cat "$WORK/race.ALICE" "$WORK/race.BOB" | jq -rs '[.[] | select(.code)][0].code')" \
	failed_precondition "the other gets a clear conflict"

# --- 4. confirm, exactly once at the owner; GetBooking ------------------------------------------
call "$ALICE" ConfirmBooking "{\"bookingId\": \"$BK\", \"acceptedFee\": {\"amount\": \"$FEE\"}}" k-c1
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CONFIRMED "alice confirms: $OUT"
call "$ALICE" ConfirmBooking "{\"bookingId\": \"$BK\", \"acceptedFee\": {\"amount\": \"$FEE\"}}" k-c1
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CONFIRMED "the retried confirm answers the same"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CONFIRMED \
	"the owner has it CONFIRMED under the booking id"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK\"}" | jq -r .booking.residentPairwiseId)" \
	"$(jq -r .booking.residentPairwiseId <<<"$OUT")" "the owner knows the resident by the booking's pairwise id"
call "$ALICE" GetBooking "{\"bookingId\": \"$BK\"}"
expect_eq "$(jq -r '.booking.state + " " + .booking.owner.slug + " " + .booking.purpose' <<<"$OUT")" \
	"BOOKING_STATE_CONFIRMED chofu 練習" "GetBooking reads it back"
call "$BOB" GetBooking "{\"bookingId\": \"$BK\"}"
expect_eq "$STATUS:$REASON" 404:ERROR_REASON_NOT_FOUND "someone else's booking → NOT_FOUND"
call "$BOB" ConfirmBooking "{\"bookingId\": \"$BK\"}" k-steal
expect_eq "$STATUS" 404 "nor can someone else confirm it"

# --- 5. the owner down (its outage file) ---------------------------------------------------------
hold "$ALICE" k-a3 3
expect_eq "$(jq -r .booking.state <<<"$OUT")" BOOKING_STATE_HELD "alice holds slot 3"
BK3=$(jq -r .booking.id <<<"$OUT")
touch "$WORK/outage"
call "$ALICE" ConfirmBooking "{\"bookingId\": \"$BK3\"}" k-c3
expect_eq "$STATUS:$REASON" 503:BOOKING_ERROR_OWNER_UNAVAILABLE "owner down during the confirm → UNAVAILABLE"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK3'")" confirming \
	"the row stays CONFIRMING"
hold "$BOB" k-b4 1
expect_eq "$STATUS:$REASON" 503:BOOKING_ERROR_OWNER_UNAVAILABLE "owner down during a hold → UNAVAILABLE"
expect_eq "$(sql "$RENKEI_PG" "SELECT state || ' ' || error FROM rk_booking WHERE id = '$(jq -r '.details[0].debug.metadata[0].value' <<<"$OUT")'")" \
	"failed BOOKING_ERROR_OWNER_UNAVAILABLE" "and a FAILED row that does not block the slot"
hold "$BOB" k-b5 3
expect_eq "$REASON" BOOKING_ERROR_SLOT_FULL "the CONFIRMING row still guards its slot at the hub"
rm "$WORK/outage"
call "$ALICE" ConfirmBooking "{\"bookingId\": \"$BK3\"}" k-c3
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CONFIRMED \
	"the owner back, the same call resumes the confirmation"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK3\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CONFIRMED \
	"confirmed once at the owner"
hold "$BOB" k-b6 1
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "bob holds the slot the failed hold left free"

# --- 6. cancel, exactly once at the owner; the slot is free again; list ---------------------------
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK\", \"reason\": \"予定変更\"}" k-x1
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CANCELLED "alice cancels her confirmed booking: $OUT"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CANCELLED \
	"the owner has it CANCELLED"
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK\", \"reason\": \"予定変更\"}" k-x1
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CANCELLED "the retried cancel answers the same"
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK\"}" k-x2
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CANCELLED "cancelling a cancelled booking answers the same"
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK\"}" k-x1
expect_eq "$STATUS:$REASON" 409:ERROR_REASON_IDEMPOTENCY_KEY_REUSED "the cancel key with another request → ALREADY_EXISTS"
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK\", \"reason\": \"$(printf 'あ%.0s' $(seq 1 201))\"}" k-x9
expect_match "$STATUS:$(jq -r .message <<<"$OUT")" '^400:reason:' "a long reason → INVALID_ARGUMENT naming reason"
hold "$BOB" k-b8 0
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "bob holds the slot alice cancelled"
BK8=$(jq -r .booking.id <<<"$OUT")
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK8\"}" k-x3
expect_eq "$STATUS:$REASON" 404:ERROR_REASON_NOT_FOUND "alice cannot cancel bob's booking → NOT_FOUND"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK8'")" held "bob's booking is untouched"
call "$BOB" CancelBooking "{\"bookingId\": \"$BK8\"}" k-b8x
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CANCELLED "bob releases his hold"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK8\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CANCELLED \
	"the owner released it"
sql "$RENKEI_PG" "UPDATE rk_booking SET cancellation_deadline = now() - interval '1 minute' WHERE id = '$BK3'" >/dev/null
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK3\"}" k-x4
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_CANCELLATION_CLOSED "past the cancellation deadline → CANCELLATION_CLOSED"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK3'")" confirmed "the booking stays CONFIRMED"
sql "$RENKEI_PG" "UPDATE rk_booking SET cancellation_deadline = now() + interval '1 day' WHERE id = '$BK3'" >/dev/null
touch "$WORK/outage"
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK3\"}" k-x5
expect_eq "$STATUS:$REASON" 503:BOOKING_ERROR_OWNER_UNAVAILABLE "owner down during a cancel → UNAVAILABLE"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK3'")" cancelling "the row stays CANCELLING"
rm "$WORK/outage"
call "$ALICE" CancelBooking "{\"bookingId\": \"$BK3\"}" k-x5
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CANCELLED "the owner back, the same call finishes the cancel"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK3\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CANCELLED \
	"cancelled once at the owner"
hold "$ALICE" k-a9 3
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "the cancelled slot can be held again"

mine=$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_booking b JOIN rk_identity_account a ON a.id = b.account_id WHERE a.username = 'alice'")
call "$ALICE" ListMyBookings '{}'
expect_eq "$STATUS:$(jq '.bookings | length' <<<"$OUT")" "200:$mine" "ListMyBookings lists alice's $mine bookings"
expect_eq "$(jq -r '[.bookings[].id] | map(select(. == "'"$BK8"'")) | length' <<<"$OUT")" 0 "and none of bob's"
expect_eq "$(jq -r '.page.nextPageToken // ""' <<<"$OUT")" "" "on one page"
expect_eq "$(jq -c '[.bookings[].time.start] == ([.bookings[].time.start] | sort | reverse)' <<<"$OUT")" true "newest slot first"
all=$(jq -c '[.bookings[].id]' <<<"$OUT")
call "$ALICE" ListMyBookings '{"page": {"pageSize": 2}}'
expect_eq "$(jq '.bookings | length' <<<"$OUT")" 2 "a page of 2"
seen=$(jq -c '[.bookings[].id]' <<<"$OUT")
tok=$(jq -r .page.nextPageToken <<<"$OUT")
while [[ -n $tok && $tok != null ]]; do
	call "$ALICE" ListMyBookings "{\"page\": {\"pageSize\": 2, \"pageToken\": \"$tok\"}}"
	[[ $STATUS == 200 ]] || fail "a next page: $OUT"
	seen=$(jq -c --argjson a "$seen" '$a + [.bookings[].id]' <<<"$OUT")
	tok=$(jq -r '.page.nextPageToken // ""' <<<"$OUT")
done
expect_eq "$seen" "$all" "the pages together are the whole list, in order"
call "$ALICE" ListMyBookings '{"states": ["BOOKING_STATE_CANCELLED"]}'
expect_eq "$(jq -r '[.bookings[].state] | unique | join(",")' <<<"$OUT")" BOOKING_STATE_CANCELLED "filtered by state"
call "$ALICE" ListMyBookings '{"page": {"pageSize": 2, "pageToken": "nonsense"}}'
expect_match "$STATUS:$(jq -r .message <<<"$OUT")" '^400:page.page_token:' "a bad page token names page.page_token"
call "$ALICE" ListMyBookings '{"page": {"pageSize": -1}}'
expect_match "$STATUS:$(jq -r .message <<<"$OUT")" '^400:page.page_size:' "a negative page size names page.page_size"
call "" ListMyBookings '{}'
expect_eq "$STATUS:$REASON" 401:ERROR_REASON_LOGIN_REQUIRED "ListMyBookings needs a token"

# --- 7. a revoked login books nothing (the grant is checked live) --------------------------------
sql "$RENKEI_PG" "UPDATE rk_identity_grant g SET revoked_at = now() FROM rk_identity_account a WHERE a.id = g.account_id AND a.username = 'bob'" >/dev/null
hold "$BOB" k-b7 2
expect_eq "$STATUS:$REASON" 401:ERROR_REASON_LOGIN_REQUIRED "bob's revoked grant → LOGIN_REQUIRED"

# --- 8. the recovery sweep after a crash (kill -9) ------------------------------------------------
# A hub killed during the owner's ConfirmBooking leaves the row CONFIRMING (its lease runs out);
# a hold can run out with no client coming back. Both are made in SQL after real holds, the hub
# is killed and restarted with a short sweep interval: the sweep finishes them alone.
(($(jq length <<<"$slots") >= 7)) || fail "fewer than 7 free slots at the owner: $slots"
hold "$ALICE" k-s1 5
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "alice holds slot 5"
BK8=$(jq -r .booking.id <<<"$OUT")
hold "$ALICE" k-s2 6
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "alice holds slot 6"
BK9=$(jq -r .booking.id <<<"$OUT")
sql "$RENKEI_PG" "UPDATE rk_booking SET state = 'confirming', lease_until = now() - interval '1 second' WHERE id = '$BK8'" >/dev/null
sql "$RENKEI_PG" "UPDATE rk_booking SET hold_expires_at = now() - interval '1 second', lease_until = now() - interval '1 second' WHERE id = '$BK9'" >/dev/null
kill -KILL "$HUB_PID"
wait "$HUB_PID" 2>/dev/null || true
HUB_PID=
RENKEI_FACILITY_BOOKING_SWEEP_MS=300 hub_start
# wait_until SECONDS COMMAND...: COMMAND every 0.1 s until it succeeds or SECONDS have passed on
# the clock (however slow a loaded machine makes each try); the expectations after it tell.
wait_until() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < deadline)) || return 0
		sleep 0.1
	done
}
swept() { [[ $(sql "$RENKEI_PG" "SELECT string_agg(state, ' ' ORDER BY id = '$BK9') FROM rk_booking WHERE id IN ('$BK8', '$BK9')") == "confirmed expired" ]]; }
released() { [[ $(owner GetBooking "{\"bookingKey\": \"$BK9\"}" | jq -r .booking.state) == OWNER_BOOKING_STATE_CANCELLED ]]; }
wait_until 60 swept
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK8'")" confirmed \
	"after the crash and a restart the sweep confirms the CONFIRMING row"
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK8\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CONFIRMED \
	"the owner has one CONFIRMED booking under its key"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_booking WHERE id = '$BK9'")" expired \
	"the hold past its expiry is EXPIRED"
wait_until 60 released
expect_eq "$(owner GetBooking "{\"bookingKey\": \"$BK9\"}" | jq -r .booking.state)" OWNER_BOOKING_STATE_CANCELLED \
	"and released at the owner"

# --- the end: clean exits ------------------------------------------------------------------------
kill -TERM "$SIM_PID"
wait "$SIM_PID" || fail "the sim exited with a failure status after SIGTERM"
SIM_PID=
hub_stop
pass "the hub and the sim exit cleanly"
