# facility_terms_test.sh — a resident's terms under the agreements of tenants/: renkeid on the
# real PostgreSQL of tests/run with a renkei-adapter-sim for chofu (occupancy 0). 調布市 lets
# 狛江市's residents book its sports facilities (agreement chofu-komae-sports-facilities:
# partner_area at the non-resident rate, 30 days ahead); 板橋区 has no agreement with it.
# SearchFacilities and GetFacility answer each caller's terms: anonymous → OUTSIDER; a chofu
# resident → RESIDENT at the resident rate, 60 days; a komae resident → PARTNER_AREA with the
# agreement's id and version, the non-resident rate, 30 days; an itabashi resident → not
# eligible, with a reason naming 調布市; an itabashi resident who works in chofu (works_in) →
# WORKER at the resident rate and window; a bad token → UNAUTHENTICATED. max_hourly_fee filters
# and FACILITY_SORT_PRICE orders by the caller's own hourly fee. HoldSlot: the itabashi
# resident → BOOKING_ERROR_NOT_ELIGIBLE (PERMISSION_DENIED) naming 調布市 in both languages;
# the komae resident 45 days ahead → OUTSIDE_WINDOW naming when it opens (the chofu resident
# holds the same slot); a slot starting within the hour → OUTSIDE_WINDOW (closed); the komae
# resident 3 days ahead → HELD as PARTNER_AREA with the agreement, the owner's non-resident
# fee (the hub's own computation from the fee schedule, sent as expected_fee, agrees), payment
# instructions naming the payee and a cancellation deadline 24 hours before the start.
# Its confirmation yields a receipt (ExchangeService.GetReceipt for either city, verified by
# renkeictl against chofu's JWKS); a chofu resident's booking at chofu does not. GetAvailability
# prices each slot for its caller as the owner would.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db facility_terms_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

sim_start chofu '{"adapter": {"name": "sim-chofu"},
 "municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu City", "name_kana": "チョウフシ"},
 "sim": {"facilities": {"count": 20, "occupancy_percent": 0}, "library": {"enabled": false}}}'
expect_ok "register the chofu sim" adapter register --tenant chofu --name sim-chofu \
	--endpoint "http://127.0.0.1:$SIM_PORT" --capability facility_catalogue --capability facility_booking
expect_ok "sync it" adapter sync --tenant chofu --name sim-chofu

resident_add chofu carol
resident_add komae kenji
resident_add itabashi ida
# wanda lives in itabashi and works in chofu (在勤), recorded by her home city.
curl -s "${ADMIN[@]}" -d "{\"username\": \"wanda\", \"password\": \"$PASSWORD\", \"works_in\": \"chofu\"}" \
	"$HUB_URL/admin/v1/realms/itabashi/users" >"$WORK/wanda.json"
expect_eq "$(jq -r .works_in "$WORK/wanda.json")" chofu "an account records where its holder works"
status=$(curl -s -o "$WORK/bad.json" -w '%{http_code}' "${ADMIN[@]}" \
	-d "{\"username\": \"walter\", \"password\": \"$PASSWORD\", \"works_in\": \"atlantis\"}" \
	"$HUB_URL/admin/v1/realms/itabashi/users")
expect_match "$status $(jq -r .message "$WORK/bad.json")" '^400 works_in: must be the slug' "an unknown works_in names the field"
CAROL=$(resident_token chofu carol)
WANDA=$(resident_token itabashi wanda)
KENJI=$(resident_token komae kenji)
IDA=$(resident_token itabashi ida)
[[ $CAROL == ey* && $KENJI == ey* && $IDA == ey* ]] || fail "no access tokens for the residents"
AGREEMENT=$(sql "$RENKEI_PG" "SELECT a.id || ' ' || a.version FROM rk_agreement a JOIN rk_tenant t ON t.id = a.tenant_id
	JOIN rk_tenant f ON f.id = a.from_tenant_id WHERE t.slug = 'chofu' AND f.slug = 'komae'")

# An open-to-all facility without lotteries, and its resident and non-resident hourly fees.
read -r FID OWNER_FID < <(sql "$RENKEI_PG" "SELECT id, owner_facility_id FROM rk_facility
	WHERE bookable_via_hub AND body ->> 'lottery' IS NULL AND body -> 'usageRules' ->> 'en' LIKE 'Open to everyone%'
	ORDER BY id LIMIT 1" | tr '|' ' ')
[[ -n $FID ]] || fail "no open facility without lottery in the catalogue"
read -r RES_HOURLY NONRES_HOURLY < <(sql "$RENKEI_PG" "SELECT resident_hourly_yen, non_resident_hourly_yen FROM rk_facility WHERE id = $FID" | tr '|' ' ')
((NONRES_HOURLY > RES_HOURLY)) || fail "the non-resident rate ($NONRES_HOURLY) is not above the resident rate ($RES_HOURLY)"

# --- 1. terms in search and GetFacility ----------------------------------------------------------
terms() { # terms TOKEN: GetFacility's terms for the facility
	call "$1" GetFacility "{\"facilityId\": \"$FID\"}"
	[[ $STATUS == 200 ]] || fail "GetFacility: $STATUS $OUT"
	jq -c .terms <<<"$OUT"
}
T=$(terms "")
expect_eq "$(jq -r '[.residencyClass, .eligible, .hourlyFeeFrom.amount] | join(" ")' <<<"$T")" \
	"RESIDENCY_CLASS_OUTSIDER true $NONRES_HOURLY" "anonymous: OUTSIDER at the non-resident rate"
T=$(terms "$CAROL")
expect_eq "$(jq -r '[.residencyClass, .eligible, .hourlyFeeFrom.amount, .opensDaysBefore, .mayEnterLottery] | join(" ")' <<<"$T")" \
	"RESIDENCY_CLASS_RESIDENT true $RES_HOURLY 60 true" "a chofu resident: RESIDENT, resident rate, 60 days"
T=$(terms "$KENJI")
expect_eq "$(jq -r '[.residencyClass, .eligible, .hourlyFeeFrom.amount, .opensDaysBefore, .agreement.agreementId, .agreement.version] | join(" ")' <<<"$T")" \
	"RESIDENCY_CLASS_PARTNER_AREA true $NONRES_HOURLY 30 ${AGREEMENT% *} ${AGREEMENT#* }" \
	"a komae resident: PARTNER_AREA under the agreement, non-resident rate, 30 days"
T=$(terms "$IDA")
expect_eq "$(jq -r ".eligible // false" <<<"$T")" false "an itabashi resident is not eligible"
expect_match "$(jq -r .ineligibleReason.ja <<<"$T")" '^調布市の施設は' "with a reason naming 調布市"
T=$(terms "$WANDA")
expect_eq "$(jq -r '[.residencyClass, .eligible, .hourlyFeeFrom.amount, .opensDaysBefore, (.agreement.agreementId // "none")] | join(" ")' <<<"$T")" \
	"RESIDENCY_CLASS_WORKER true $RES_HOURLY 60 none" "an itabashi resident working in chofu: WORKER, resident rate, 60 days, no agreement"
call "not-a-token" GetFacility "{\"facilityId\": \"$FID\"}"
expect_eq "$STATUS" 401 "a bad token is UNAUTHENTICATED, not anonymous"

call "$CAROL" SearchFacilities "{\"maxHourlyFee\": {\"amount\": \"$RES_HOURLY\"}, \"page\": {\"pageSize\": 100}}"
expect_eq "$STATUS" 200 "a price-filtered search answers"
expect_eq "$(jq "[.results[] | select((.terms.hourlyFeeFrom.amount | tonumber) > $RES_HOURLY)] | length" <<<"$OUT")" 0 \
	"max_hourly_fee: no result above it for the caller"
jq -e ".results[] | select(.facility.id == \"$FID\")" <<<"$OUT" >/dev/null || fail "the facility at exactly the limit is missing"
call "" SearchFacilities "{\"maxHourlyFee\": {\"amount\": \"$RES_HOURLY\"}, \"page\": {\"pageSize\": 100}}"
jq -e ".results[] | select(.facility.id == \"$FID\")" <<<"$OUT" >/dev/null &&
	fail "anonymous callers pay the non-resident rate: the facility should be above their limit"
pass "the same limit excludes it for an anonymous caller"
call "$KENJI" SearchFacilities '{"sort": "FACILITY_SORT_PRICE", "page": {"pageSize": 100}}'
expect_eq "$(jq '[.results[].terms.hourlyFeeFrom.amount | tonumber] | . == sort' <<<"$OUT")" true \
	"FACILITY_SORT_PRICE: the caller's hourly fees in order"
call "" SearchFacilities '{"maxHourlyFee": {"amount": "-1"}}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 max_hourly_fee.amount' "a negative limit names the field"

# --- 2. HoldSlot on the caller's terms -----------------------------------------------------------
owner_slots() { # owner_slots FROM TO CLASS: the owner's free slots with its fee for CLASS
	curl -s --max-time 10 -H 'content-type: application/json' --data-binary "{\"facilityIds\": [\"$OWNER_FID\"],
		\"window\": {\"start\": \"$1\", \"end\": \"$2\"}, \"resident\": {\"pairwiseId\": \"probe\", \"residencyClass\": \"$3\"}}" \
		"http://127.0.0.1:$SIM_PORT/renkei.v1.AdapterService/GetAvailability" |
		jq -c '[.facilities[0].slots[] | select(.status == "SLOT_STATUS_AVAILABLE") | {time, fee}]'
}
near=$(owner_slots "$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)" "$(date -u -d '+5 days' +%Y-%m-%dT00:00:00Z)" RESIDENCY_CLASS_OUTSIDER)
far=$(owner_slots "$(date -u -d '+45 days' +%Y-%m-%dT00:00:00Z)" "$(date -u -d '+47 days' +%Y-%m-%dT00:00:00Z)" RESIDENCY_CLASS_RESIDENT)
(($(jq length <<<"$near") >= 2 && $(jq length <<<"$far") >= 2)) || fail "too few free slots at the owner: $near $far"
second=$(jq -r '.[1].time.start' <<<"$near") # its fee for a resident, asked while it is free
resident_quote=$(owner_slots "$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)" "$(date -u -d '+5 days' +%Y-%m-%dT00:00:00Z)" \
	RESIDENCY_CLASS_RESIDENT | jq -r --arg s "$second" '.[] | select(.time.start == $s) | .fee.amount')

call "$IDA" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[0].time' <<<"$near")}" k-ida
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "itabashi → NOT_ELIGIBLE (permission_denied)"
expect_match "$(jq -r '.details[0].debug.localizedMessage | .ja + " / " + .en' <<<"$OUT")" \
	'^調布市の施設は.* / Facilities of Chofu City can be booked' "naming the owner city in ja and en"

call "$WANDA" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[1].time' <<<"$far")}" k-wanda
expect_eq "$STATUS:$(jq -r '.booking.residencyClass + " " + .booking.fee.amount' <<<"$OUT")" \
	"200:RESIDENCY_CLASS_WORKER $(jq -r '.[1].fee.amount' <<<"$far")" "wanda holds 45 days ahead as WORKER at the resident fee"
call "$KENJI" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[0].time' <<<"$far")}" k-kenji-far
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_OUTSIDE_WINDOW "komae, 45 days ahead → OUTSIDE_WINDOW"
expect_match "$(jq -r '.details[0].debug.localizedMessage.ja' <<<"$OUT")" '予約受付は20..年.*に始まります' "saying when it opens"
call "$CAROL" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[0].time' <<<"$far")}" k-carol-far
expect_eq "$STATUS:$(jq -r .booking.residencyClass <<<"$OUT")" 200:RESIDENCY_CLASS_RESIDENT "the chofu resident may hold it"

soon_start=$(date -u -d '+30 minutes' +%Y-%m-%dT%H:00:00Z)
soon_end=$(date -u -d "$soon_start + 1 hour" +%Y-%m-%dT%H:%M:%SZ)
call "$CAROL" HoldSlot "{\"facilityId\": \"$FID\", \"time\": {\"start\": \"$soon_start\", \"end\": \"$soon_end\"}}" k-carol-soon
expect_eq "$STATUS:$REASON" 400:BOOKING_ERROR_OUTSIDE_WINDOW "within the hour before the start → OUTSIDE_WINDOW"
expect_match "$(jq -r .message <<<"$OUT")" 'closed at' "saying it closed"

call "$KENJI" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[0].time' <<<"$near")}" k-kenji
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_HELD "komae, 3 days ahead → HELD ($OUT)"
expect_eq "$(jq -r '[.booking.residencyClass, .booking.agreement.agreementId, .booking.agreement.version] | join(" ")' <<<"$OUT")" \
	"RESIDENCY_CLASS_PARTNER_AREA ${AGREEMENT% *} ${AGREEMENT#* }" "as PARTNER_AREA under the agreement's id and version"
expect_eq "$(jq -r .booking.fee.amount <<<"$OUT")" "$(jq -r '.[0].fee.amount' <<<"$near")" "at the owner's non-resident fee"
expect_match "$(jq -r .booking.paymentInstructions.ja <<<"$OUT")" "円は調布市にお支払いください" "payment instructions name the payee"
start=$(jq -r '.[0].time.start' <<<"$near")
expect_eq "$(jq -r .booking.cancellationDeadline <<<"$OUT")" "$(date -u -d "$start - 24 hours" +%Y-%m-%dT%H:%M:%SZ)" \
	"cancellation closes 24 hours before the start"
expect_eq "$(sql "$RENKEI_PG" "SELECT residency_class || ' ' || fee_basis || ' ' || agreement_version FROM rk_booking WHERE id = '$(jq -r .booking.id <<<"$OUT")'")" \
	"partner_area non_resident_rate ${AGREEMENT#* }" "the row records the class, fee basis and agreement version"

# Confirmed across cities: a receipt both cities can fetch and verify offline.
KENJI_BK=$(jq -r .booking.id <<<"$OUT")
call "$KENJI" ConfirmBooking "{\"bookingId\": \"$KENJI_BK\", \"acceptedFee\": $(jq -c .booking.fee <<<"$OUT")}" k-kenji-confirm
expect_eq "$STATUS:$(jq -r .booking.state <<<"$OUT")" 200:BOOKING_STATE_CONFIRMED "kenji confirms"
RECEIPT=$(jq -r .booking.receiptId <<<"$OUT")
expect_match "$RECEIPT" '^rc_[0-9a-f]{32}$' "the cross-city confirmation carries a receipt id"
for city in chofu komae; do
	curl -s -H "Authorization: Bearer $RENKEI_ADMIN_TOKEN" -H 'content-type: application/json' \
		-d "{\"tenant\": \"$city\", \"receiptId\": \"$RECEIPT\"}" \
		"$HUB_URL/renkei.v1.ExchangeService/GetReceipt" >"$WORK/receipt.$city.json"
	expect_eq "$(jq -r '[.receipt.kind, .receipt.provider.slug, .receipt.home.slug] | join(" ")' "$WORK/receipt.$city.json")" \
		"EXCHANGE_KIND_BOOKING_CONFIRMED chofu komae" "$city fetches the receipt"
done
out=$("$CTL" receipt verify "$WORK/receipt.komae.json" --jwks "$HUB_URL/t/chofu/jwks" 2>&1) || fail "renkeictl receipt verify refused it: $out"
expect_match "$out" "receipt $RECEIPT verifies" "renkeictl verifies it against chofu's JWKS"
expect_match "$out" "booking $KENJI_BK" "naming the booking"
call "$CAROL" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[1].time' <<<"$near")}" k-carol-near
call "$CAROL" ConfirmBooking "{\"bookingId\": \"$(jq -r .booking.id <<<"$OUT")\", \"acceptedFee\": $(jq -c .booking.fee <<<"$OUT")}" k-carol-confirm
expect_eq "$(jq -r '.booking.state + " " + (.booking.receiptId // "none")' <<<"$OUT")" "BOOKING_STATE_CONFIRMED none" \
	"a chofu resident's booking at chofu is no exchange between cities"

# --- 3. GetAvailability prices every slot for the caller -------------------------------------------
from=$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)
to=$(date -u -d '+5 days' +%Y-%m-%dT00:00:00Z)
slot_fee() { # slot_fee TOKEN: the hub's fee for the second free slot for that caller
	call "$1" GetAvailability "{\"facilityIds\": [\"$FID\"], \"window\": {\"start\": \"$from\", \"end\": \"$to\"}}"
	[[ $STATUS == 200 ]] || fail "GetAvailability: $STATUS $OUT"
	jq -r --arg s "$second" '.facilities[0].slots[] | select(.time.start == $s) | .fee.amount // ""' <<<"$OUT"
}
expect_eq "$(slot_fee "$CAROL")" "$resident_quote" "GetAvailability: a chofu resident sees the owner's resident fee"
expect_eq "$(slot_fee "$KENJI")" "$(jq -r '.[1].fee.amount' <<<"$near")" "a komae resident sees the non-resident fee"
expect_eq "$(slot_fee "")" "$(jq -r '.[1].fee.amount' <<<"$near")" "an anonymous caller sees the non-resident fee"

# --- 4. what the hub remembers for GetAvailability follows changes at once ---------------------
# Each worker keeps facilities (fee schedules parsed) and callers' fee sides in memory
# (hub/facility/directory.h); NOTIFY rk_facility / rk_terms (migration 0025) make it forget.
# fee_within TOKEN EXPECTED: the slot's fee becomes EXPECTED within 2 s (a NOTIFY's way).
fee_within() {
	local got i
	for ((i = 0; i < 20; i++)); do
		got=$(slot_fee "$1")
		[[ $got == "$2" ]] && break
		sleep 0.1
	done
	echo "$got"
}
sql "$RENKEI_PG" "UPDATE rk_identity_account SET works_in_tenant_id = (SELECT id FROM rk_tenant WHERE slug = 'chofu')
	WHERE username = 'kenji'" >/dev/null
expect_eq "$(fee_within "$KENJI" "$resident_quote")" "$resident_quote" \
	"kenji recorded as working in chofu: GetAvailability charges him the resident fee at once"
FEES=$(sql "$RENKEI_PG" "SELECT fees::text FROM rk_facility WHERE id = $FID")
sql "$RENKEI_PG" "UPDATE rk_facility SET fees = '{}' WHERE id = $FID" >/dev/null
expect_eq "$(fee_within "$CAROL" "")" "" "the facility's fee schedule gone (a sync): slots carry no fee"
sql "$RENKEI_PG" "UPDATE rk_facility SET fees = '$FEES' WHERE id = $FID" >/dev/null
expect_eq "$(fee_within "$CAROL" "$resident_quote")" "$resident_quote" "the schedule back: the resident fee again"

hub_stop
sim_stop chofu
