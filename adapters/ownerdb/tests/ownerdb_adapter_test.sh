# ownerdb_adapter_test.sh — renkei-adapter-ownerdb against a real PostgreSQL of its own (a
# private cluster in the test's folder, so that stopping it disturbs no other test): the
# adapter creates the owner's database, schema and seed; ListFacilities pages with tokens that
# carry over a change in the owner's tables (a fee change, a facility removed: a tombstone);
# GetAvailability shows a counter (窓口) booking as BOOKED; 20 holds racing for one slot →
# exactly one 仮予約 in the owner's table, the others SLOT_HELD; the owner's own exclusion
# constraint refuses a double booking made beside the adapter; refusals with the sim's reasons
# (NOT_ELIGIBLE, NOT_BOOKABLE_VIA_HUB, OUTSIDE_WINDOW, PRICE_CHANGED, HOLD_EXPIRED,
# CANCELLATION_CLOSED, a field named); the same key and request after an adapter restart →
# the first answer, another request → ALREADY_EXISTS / IDEMPOTENCY_KEY_REUSED; PostgreSQL
# stopped → UNAVAILABLE at once and NOT_SERVING, started again → the calls work and nothing
# was lost. The adapter must exit 0 on SIGTERM (the sanitizers report through it).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

PGCTL=$RENKEI_SOURCE_DIR/deploy/pgctl
PGBASE=$WORK/pg
OWNERDB_AT_EXIT='"$PGCTL" stop "$PGBASE/data" "$PGBASE/run"'
source "$RENKEI_SOURCE_DIR/tests/lib/ownerdb.sh"

# --- a private PostgreSQL ------------------------------------------------------------------------
mkdir -p "$PGBASE"
chmod 0755 "$WORK"
[[ $(id -u) != 0 ]] || chown postgres: "$PGBASE"
PGCTL_FAST=1 "$PGCTL" init "$PGBASE/data" "$PGBASE/run" >/dev/null
"$PGCTL" start "$PGBASE/data" "$PGBASE/run" >/dev/null
OWNER_PG="host=$PGBASE/run dbname=ownerdb_test user=renkei"

cat >"$WORK/seed.sql" <<'EOF'
INSERT INTO yoyaku.shisetsu (shisetsu_cd, shisetsu_mei, shubetsu, teiin, kaikan, heikan, waku_fun,
    ryokin_shinai, ryokin_shigai, shimin_gentei, web_uketsuke, torikeshi_jikan) VALUES
    ('CT-1', 'テスト公園 庭球場', '庭球場', 4, '08:00', '20:00', 60, 600, 900, false, true, 24),
    ('RO-1', 'テスト体育館 武道場', '武道場', 40, '09:00', '21:00', 120, 1000, 1500, true, true, 24),
    ('NB-1', 'テスト公民館 会議室', '会議室', 20, '09:00', '22:00', 60, 400, 800, false, false, 24);
EOF
cat >"$WORK/ownerdb.json" <<EOF
{"adapter": {"name": "ownerdb-komae"},
 "municipality": {"code": "132195", "slug": "komae", "name_ja": "狛江市"},
 "ownerdb": {"conninfo": "$OWNER_PG", "create_database": 1, "init_schema": 1,
             "seed_file": "$WORK/seed.sql", "hold_ttl_seconds": 600}}
EOF

# acall METHOD JSON: AdapterService over Connect JSON; sets OUT, STATUS, REASON.
acall() {
	local body
	body=$(curl -s --max-time 20 -D "$WORK/headers" -w '\n%{http_code}' -H 'content-type: application/json' \
		--data-binary "$2" "$OWNERDB_URL/renkei.v1.AdapterService/$1") || fail "$1: curl failed"
	STATUS=${body##*$'\n'}
	OUT=${body%$'\n'*}
	REASON=$(tr -d '\r' <"$WORK/headers" | sed -n 's/^renkei-error-reason: //ip')
}

health() { # the adapter's grpc.health.v1.Health status
	curl -s --max-time 5 -H 'content-type: application/json' -d '{}' \
		"$OWNERDB_URL/grpc.health.v1.Health/Check" | jq -r .status
}

RESIDENT='"resident": {"pairwiseId": "pw-alice", "residencyClass": "RESIDENCY_CLASS_RESIDENT"}'
OUTSIDER='"resident": {"pairwiseId": "pw-olga", "residencyClass": "RESIDENCY_CLASS_OUTSIDER"}'
hold_json() { # hold_json KEY FACILITY START END [EXTRA]
	echo "{\"idempotencyKey\": {\"key\": \"$1\"}, $RESIDENT, \"facilityId\": \"$2\", \"time\": {\"start\": \"$3\", \"end\": \"$4\"}, \"attendees\": 2, \"purpose\": \"練習\"${5:-}}"
}

# --- 1. set-up and catalogue --------------------------------------------------------------------
ownerdb_start "$WORK/ownerdb.json"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT count(*) FROM yoyaku.shisetsu")" 3 "the adapter created the owner's database, schema and seed"
acall ListFacilities '{"page": {"pageSize": 2}}'
expect_eq "$STATUS:$(jq -c '[.facilities[].id]' <<<"$OUT"):$(jq -r .page.totalSize <<<"$OUT")" \
	'200:["CT-1","NB-1"]:3' "ListFacilities: the first page of 2 of 3, by 施設コード"
expect_eq "$(jq -r '.facilities[0].kind + " " + .facilities[0].fees.rates[0].nonResidentFee.amount' <<<"$OUT")" \
	"FACILITY_KIND_TENNIS_COURT 900" "庭球場 maps to the taxonomy, with the owner's fees"
acall ListFacilities "{\"page\": {\"pageSize\": 2, \"pageToken\": \"$(jq -r .page.nextPageToken <<<"$OUT")\"}}"
expect_eq "$(jq -c '[.facilities[].id]' <<<"$OUT")" '["RO-1"]' "the next page has the rest"
CHANGE=$(jq -r .changeToken <<<"$OUT")
expect_match "$CHANGE" '^o1\.' "the last page gives a change token"
owner_sql "$OWNER_PG" "UPDATE yoyaku.shisetsu SET ryokin_shigai = 1000 WHERE shisetsu_cd = 'CT-1'" >/dev/null
owner_sql "$OWNER_PG" "UPDATE yoyaku.shisetsu SET haishi_bi = now() WHERE shisetsu_cd = 'NB-1'" >/dev/null
acall ListFacilities "{\"changeToken\": \"$CHANGE\"}"
expect_eq "$(jq -c '[[.facilities[].id], .removedFacilityIds, .fullListing // false]' <<<"$OUT")" \
	'[["CT-1"],["NB-1"],false]' "with the token: only the changed facility and the removed one"
acall ListFacilities '{"changeToken": "o1.0123456789abcdef.1"}'
expect_eq "$(jq -r '.fullListing' <<<"$OUT")" true "a token of another database → a full listing"
acall ListFacilities '{"page": {"pageToken": "nonsense"}}'
expect_match "$STATUS:$(jq -r .message <<<"$OUT")" '^400:page.page_token:' "a bad page token names page.page_token"

# --- 2. availability ----------------------------------------------------------------------------
S10=$(jst 3 10:00) E10=$(jst 3 11:00) S11=$(jst 3 11:00) E11=$(jst 3 12:00)
owner_sql "$OWNER_PG" "INSERT INTO yoyaku.yoyaku (shisetsu_cd, riyo_kikan, jotai, riyosha_id, ryokin)
	VALUES ('CT-1', tstzrange('$S11', '$E11'), '本予約', 'M00001', 600)" >/dev/null
acall GetAvailability "{\"facilityIds\": [\"CT-1\"], \"window\": {\"start\": \"$S10\", \"end\": \"$E11\"}, $RESIDENT}"
expect_eq "$(jq -c '[.facilities[0].slots[] | .status]' <<<"$OUT")" \
	'["SLOT_STATUS_AVAILABLE","SLOT_STATUS_BOOKED"]' "GetAvailability: free, and the counter's booking BOOKED"
expect_eq "$(jq -r '.facilities[0].slots[0].fee.amount' <<<"$OUT")" 600 "with the resident's fee"
acall GetAvailability "{\"facilityIds\": [\"CT-1\"], \"window\": {\"start\": \"$E11\", \"end\": \"$S10\"}}"
expect_match "$STATUS:$(jq -r .message <<<"$OUT")" '^400:window: end must be after start' "a reversed window names window"

# --- 3. a race for one slot; the owner's own rule ------------------------------------------------
racers=()
for i in $(seq 1 20); do
	curl -s --max-time 20 -o "$WORK/race.$i" -H 'content-type: application/json' \
		--data-binary "$(hold_json "race-$i" CT-1 "$S10" "$E10")" \
		"$OWNERDB_URL/renkei.v1.AdapterService/HoldSlot" &
	racers+=($!)
done
wait "${racers[@]}"
expect_eq "$(cat "$WORK"/race.* | jq -s '[.[] | select(.booking.state == "OWNER_BOOKING_STATE_HELD")] | length')" 1 \
	"20 holds racing for one slot: exactly one HELD"
expect_eq "$(cat "$WORK"/race.* | jq -rs '[.[] | select(.code) | .code] | unique | join(",")')" aborted \
	"the other 19 are ABORTED (SLOT_HELD: try again later)"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT count(*) FROM yoyaku.yoyaku WHERE shisetsu_cd = 'CT-1' AND riyo_kikan && tstzrange('$S10', '$E10') AND jotai IN ('仮予約', '本予約')")" 1 \
	"one 仮予約 in the owner's table"
if owner_sql "$OWNER_PG" "INSERT INTO yoyaku.yoyaku (shisetsu_cd, riyo_kikan, jotai, riyosha_id) VALUES ('CT-1', tstzrange('$S10', '$E10'), '本予約', 'M00002')" 2>"$WORK/psql.err"; then
	fail "the owner's table took a second booking of a held slot"
fi
expect_match "$(cat "$WORK/psql.err")" 'yoyaku_jufuku_kinshi' "the owner's own exclusion constraint refuses a double booking beside the adapter"

# --- 4. refusals ---------------------------------------------------------------------------------
acall HoldSlot "{\"idempotencyKey\": {\"key\": \"r1\"}, $OUTSIDER, \"facilityId\": \"RO-1\", \"time\": {\"start\": \"$(jst 3 09:00)\", \"end\": \"$(jst 3 11:00)\"}}"
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "an outsider at a residents-only facility → NOT_ELIGIBLE"
owner_sql "$OWNER_PG" "UPDATE yoyaku.shisetsu SET haishi_bi = NULL WHERE shisetsu_cd = 'NB-1'" >/dev/null
acall HoldSlot "$(hold_json r2 NB-1 "$S10" "$E10")"
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_NOT_BOOKABLE_VIA_HUB "a counter-only facility → NOT_BOOKABLE_VIA_HUB"
acall HoldSlot "$(hold_json r3 CT-1 "$(jst 90 10:00)" "$(jst 90 11:00)")"
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_OUTSIDE_WINDOW "90 days ahead → OUTSIDE_WINDOW"
acall HoldSlot "$(hold_json r4 CT-1 "$(jst 3 12:00)" "$(jst 3 13:00)" ', "expectedFee": {"amount": "500"}')"
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_PRICE_CHANGED "an expected fee that is not the owner's → PRICE_CHANGED"
acall HoldSlot "{\"idempotencyKey\": {\"key\": \"r4b\"}, \"resident\": {\"pairwiseId\": \"pw-chofu\", \"residencyClass\": \"RESIDENCY_CLASS_PARTNER_AREA\", \"agreement\": {\"agreementId\": \"komae-chofu\"}, \"feeBasis\": \"FEE_BASIS_NON_RESIDENT_RATE\"}, \"facilityId\": \"CT-1\", \"time\": {\"start\": \"$(jst 3 12:00)\", \"end\": \"$(jst 3 13:00)\"}}"
expect_eq "$STATUS:$(jq -r .booking.fee.amount <<<"$OUT")" 200:1000 "a partner resident under an agreement charged the side its fee_basis names (市外, changed to 1000)"
acall HoldSlot "$(hold_json r5 CT-1 "$(jst 3 12:30)" "$(jst 3 13:30)")"
expect_match "$STATUS:$(jq -r .message <<<"$OUT")" '^400:time: must match' "a period off the owner's slots names time"
acall HoldSlot "$(hold_json r6 CT-1 "$(jst 3 14:00)" "$(jst 3 15:00)")"
REF6=$(jq -r .booking.ownerReference <<<"$OUT")
owner_sql "$OWNER_PG" "UPDATE yoyaku.yoyaku SET kari_kigen = now() - interval '1 second' WHERE yoyaku_no = $REF6" >/dev/null
acall ConfirmBooking "{\"idempotencyKey\": {\"key\": \"r6\"}, $RESIDENT, \"ownerReference\": \"$REF6\"}"
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_HOLD_EXPIRED "confirming a hold past its 期限 → HOLD_EXPIRED"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT jotai FROM yoyaku.yoyaku WHERE yoyaku_no = $REF6")" 期限切れ "and the owner's row says 期限切れ"
# A slot of CT-1 (08:00-20:00 JST, hourly) starting 3 to 23 hours from now, whatever the hour.
for h in $(seq 3 23); do
	SOON=$(date -u -d "+$h hours" +%Y-%m-%dT%H:00:00Z)
	jh=$(TZ=Asia/Tokyo date -d "$SOON" +%H)
	((10#$jh >= 8 && 10#$jh <= 18)) && break
done
acall HoldSlot "$(hold_json r7 CT-1 "$SOON" "$(date -u -d "$SOON + 1 hour" +%Y-%m-%dT%H:%M:%SZ)")"
REF7=$(jq -r .booking.ownerReference <<<"$OUT")
acall ConfirmBooking "{\"idempotencyKey\": {\"key\": \"r7\"}, $RESIDENT, \"ownerReference\": \"$REF7\"}"
acall CancelBooking "{\"idempotencyKey\": {\"key\": \"r7\"}, $RESIDENT, \"ownerReference\": \"$REF7\"}"
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_CANCELLATION_CLOSED "cancelling within 24 hours → CANCELLATION_CLOSED"
acall ConfirmBooking "{\"idempotencyKey\": {\"key\": \"r8\"}, \"resident\": {\"pairwiseId\": \"pw-mallory\"}, \"ownerReference\": \"$REF7\"}"
expect_eq "$STATUS:$REASON" 404:ERROR_REASON_NOT_FOUND "someone else's booking → NOT_FOUND"

# --- 5. idempotency across an adapter restart --------------------------------------------------
HOLD=$(hold_json k-1 CT-1 "$(jst 4 10:00)" "$(jst 4 12:00)")
acall HoldSlot "$HOLD"
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:OWNER_BOOKING_STATE_HELD "a two-slot hold: $OUT"
FIRST=$(jq -c . <<<"$OUT")
REF=$(jq -r .booking.ownerReference <<<"$OUT")
expect_eq "$(jq -r .booking.fee.amount <<<"$OUT")" 1200 "priced per slot (2 × 600)"
ownerdb_stop
ownerdb_start "$WORK/ownerdb.json"
acall HoldSlot "$HOLD"
expect_eq "$(jq -c . <<<"$OUT")" "$FIRST" "after a restart the same key and request → the first answer"
acall HoldSlot "${HOLD/RESIDENCY_CLASS_RESIDENT/RESIDENCY_CLASS_WORKER}"
expect_eq "$(jq -c . <<<"$OUT")" "$FIRST" "the same request with the hub's other view of the resident (class) → the first answer"
acall HoldSlot "$(hold_json k-1 CT-1 "$(jst 4 12:00)" "$(jst 4 13:00)")"
expect_eq "$STATUS:$REASON" 409:ERROR_REASON_IDEMPOTENCY_KEY_REUSED "the key with another request → ALREADY_EXISTS"
CONFIRM="{\"idempotencyKey\": {\"key\": \"k-1\"}, $RESIDENT, \"ownerReference\": \"$REF\", \"acceptedFee\": {\"amount\": \"1200\"}}"
acall ConfirmBooking "$CONFIRM"
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:OWNER_BOOKING_STATE_CONFIRMED "ConfirmBooking → CONFIRMED"
ownerdb_stop
ownerdb_start "$WORK/ownerdb.json"
acall ConfirmBooking "$CONFIRM"
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:OWNER_BOOKING_STATE_CONFIRMED "the confirm replayed after a restart"
expect_eq "$(owner_sql "$OWNER_PG" "SELECT count(*) || ' ' || min(jotai) FROM yoyaku.yoyaku WHERE yoyaku_no = $REF")" "1 本予約" \
	"one 本予約 in the owner's table"
acall GetBooking '{"bookingKey": "k-1"}'
expect_eq "$(jq -r '.booking.ownerReference + " " + .booking.residentPairwiseId' <<<"$OUT")" "$REF pw-alice" \
	"GetBooking by the hub's key finds it"

# --- 6. PostgreSQL stops and comes back ---------------------------------------------------------
"$PGCTL" stop "$PGBASE/data" "$PGBASE/run" >/dev/null
t0=$(date +%s%N)
acall GetBooking '{"bookingKey": "k-1"}'
ms=$((($(date +%s%N) - t0) / 1000000))
expect_eq "$STATUS:$REASON" 503:ERROR_REASON_OWNER_UNAVAILABLE "the owner's database down → UNAVAILABLE"
echo "  the answer came in $ms ms"
((ms < 2000)) || fail "UNAVAILABLE took $ms ms"
acall HoldSlot "$(hold_json k-2 CT-1 "$(jst 5 10:00)" "$(jst 5 11:00)")"
expect_eq "$STATUS:$REASON" 503:ERROR_REASON_OWNER_UNAVAILABLE "a hold during the outage → UNAVAILABLE"
expect_eq "$(health)" NOT_SERVING "grpc.health.v1.Health says NOT_SERVING"
"$PGCTL" start "$PGBASE/data" "$PGBASE/run" >/dev/null
for _ in $(seq 1 100); do
	acall HoldSlot "$(hold_json k-2 CT-1 "$(jst 5 10:00)" "$(jst 5 11:00)")"
	[[ $STATUS == 503 ]] || break
	sleep 0.1
done
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:OWNER_BOOKING_STATE_HELD "PostgreSQL back: the same hold goes through"
acall GetBooking "{\"ownerReference\": \"$REF\"}"
expect_eq "$(jq -r .booking.state <<<"$OUT")" OWNER_BOOKING_STATE_CONFIRMED "and the confirmed booking is still there"
expect_eq "$(health)" SERVING "and SERVING again"

ownerdb_stop
pass "the adapter exits cleanly"
