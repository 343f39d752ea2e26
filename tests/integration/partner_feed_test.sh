# partner_feed_test.sh — partner systems and their change feeds with two renkeid processes on the
# test PostgreSQL (one RENKEI_PUBLIC_URL, so tokens verify on both) and a renkei-adapter-sim for
# chofu. A chofu tenant-admin registers a partner with an RSA key pair made by openssl
# (`renkeictl partner register`), grants it SearchFacilities and ExchangeService/* read-only; the
# partner gets a client_credentials token at /t/chofu/token with a private_key_jwt assertion
# signed by openssl. Checked: a granted method answers; an ungranted one is PERMISSION_DENIED
# naming the method, a read-only grant refuses a method that changes something, one grant is
# revoked alone; another tenant's feed is refused; past its rate limit RESOURCE_EXHAUSTED
# with retry_after_seconds; ListFeed after a resident's booking shows it (with the owner's
# pairwise id, never an account id); paging by the cursor has no gap and no repeat; a library
# hold and an e-book loan written as the library broker writes them (psql) appear once the owner
# has them (the loan without its reader URL); Subscribe
# (Connect streaming over curl) receives a booking confirmed after subscribing; removing the
# adapter turns its facilities into tombstones; a reader's cursor resumes across a hub restart
# with no gap and no repeat; revoking the partner on hub 1 refuses it on
# hub 2 within 1 s (measured and printed). Both hubs and the sim exit 0 on SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

SIM=$RENKEI_BIN_DIR/renkei-adapter-sim
CTL=$RENKEI_BIN_DIR/renkeictl
HUB2_PID=
STREAM_PID=
trap 'for p in "${HUB2_PID:-}" "${STREAM_PID:-}"; do [[ -z $p ]] || kill -KILL "$p" 2>/dev/null || true; done; stop_everything' EXIT

export RENKEI_PG
RENKEI_PG=$(fresh_db partner_feed_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_PUBLIC_URL=http://hub.partners.test
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000 RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
hub_start
HUB1_URL=$HUB_URL
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

sim_start chofu "{\"adapter\": {\"name\": \"sim-chofu\"},
 \"municipality\": {\"code\": \"132080\", \"slug\": \"chofu\", \"name_ja\": \"調布市\", \"name_en\": \"Chofu\", \"name_kana\": \"チョウフシ\"},
 \"sim\": {\"facilities\": {\"count\": 12, \"occupancy_percent\": 0}, \"library\": {\"enabled\": false}}}"
expect_ok "register the sim" adapter register --tenant chofu --name sim-chofu \
	--endpoint "http://127.0.0.1:$SIM_PORT" --capability facility_catalogue --capability facility_booking
expect_ok "sync" adapter sync --tenant chofu --name sim-chofu
expect_eq "$(jq -r .added <<<"$OUT")" 12 "12 facilities synced"

# --- a partner with a key pair ------------------------------------------------------------------
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
openssl genrsa -out "$WORK/partner.key" 2048 2>/dev/null
unhex() { python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.stdin.read().strip()))'; }
N=$(openssl rsa -in "$WORK/partner.key" -noout -modulus | cut -d= -f2 | unhex | b64url)
echo "{\"keys\": [{\"kty\": \"RSA\", \"kid\": \"p1\", \"use\": \"sig\", \"alg\": \"RS256\", \"n\": \"$N\", \"e\": \"AQAB\"}]}" >"$WORK/jwks.json"

ctl partner register --tenant chofu --name 都市OSデータ連携基盤 --jwks "$WORK/jwks.json" --rate 10
[[ $RC == 0 ]] || fail "partner register: $OUT"
PID=$(jq -r .partner.id <<<"$OUT")
CID=$(jq -r .partner.clientId <<<"$OUT")
expect_match "$PID" '^pt_[0-9a-f]{32}$' "the partner has an id"
expect_eq "$(jq -r .partner.authMethod <<<"$OUT")" PARTNER_AUTH_METHOD_PRIVATE_KEY_JWT "private_key_jwt"
expect_eq "$(sql "$RENKEI_PG" "SELECT auth_method || ' ' || array_to_string(grant_types, ',') FROM rk_identity_client WHERE client_id = '$CID'")" \
	"private_key_jwt client_credentials" "its client is in the realm's client registry"
ctl partner register --tenant chofu --name other --jwks "$WORK/jwks.json" --rate -1
expect_eq "$RC" 2 "a negative --rate is a usage error"
echo '{"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB"}]}' >"$WORK/weak.json"
ctl partner register --tenant chofu --name weak --jwks "$WORK/weak.json"
expect_match "$RC $(jq -r .message <<<"$OUT")" '^1 jwks' "a weak key set is refused naming jwks"
expect_ok "grant SearchFacilities" partner grant --tenant chofu --id "$PID" \
	--method renkei.v1.FacilityService/SearchFacilities --read-only
expect_ok "grant the exchange service" partner grant --tenant chofu --id "$PID" \
	--method 'renkei.v1.ExchangeService/*' --read-only
expect_eq "$(jq -r '[.partner.grants[].method] | join(" ")' <<<"$OUT")" \
	"renkei.v1.ExchangeService/* renkei.v1.FacilityService/SearchFacilities" "two grants"
ctl partner grant --tenant chofu --id "$PID" --method 'FacilityService/HoldSlot'
expect_match "$(jq -r .message <<<"$OUT")" '^method:' "a malformed method is refused naming the field"
ctl partner grant --tenant komae --id "$PID" --method renkei.v1.FacilityService/GetFacility
expect_eq "$(jq -r .code <<<"$OUT")" not_found "another tenant's partner is not found"

# assertion: a private_key_jwt client assertion for the chofu realm, signed with the partner's key.
assertion() {
	local now header payload
	now=$(date +%s)
	header=$(printf '{"alg":"RS256","typ":"JWT","kid":"p1"}' | b64url)
	payload=$(printf '{"iss":"%s","sub":"%s","aud":"%s/t/chofu","jti":"%s","iat":%d,"exp":%d}' \
		"$CID" "$CID" "$RENKEI_PUBLIC_URL" "$(openssl rand -hex 12)" "$now" $((now + 120)) | b64url)
	printf '%s.%s.%s' "$header" "$payload" \
		"$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -sign "$WORK/partner.key" | b64url)"
}
partner_token() {
	curl -s --max-time 10 -d grant_type=client_credentials -d "client_id=$CID" \
		-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
		-d "client_assertion=$(assertion)" "$1/t/chofu/token" | jq -r .access_token
}
TOKEN=$(partner_token "$HUB1_URL")
[[ $TOKEN == ey* ]] || fail "no partner access token by private_key_jwt"
pass "a client_credentials token by private_key_jwt"

# as_partner URL SERVICE METHOD JSON: Connect JSON with the partner's token; sets OUT, STATUS, REASON.
as_partner() {
	local body
	body=$(curl -s --max-time 20 -D "$WORK/headers" -w '\n%{http_code}' -H 'content-type: application/json' \
		-H "Authorization: Bearer $TOKEN" --data-binary "$4" "$1/renkei.v1.$2/$3") || fail "$3: curl failed"
	STATUS=${body##*$'\n'}
	OUT=${body%$'\n'*}
	REASON=$(tr -d '\r' <"$WORK/headers" | sed -n 's/^renkei-error-reason: //ip')
}

# --- grants ---------------------------------------------------------------------------------------
as_partner "$HUB1_URL" FacilityService SearchFacilities '{"municipalities": ["chofu"]}'
expect_eq "$STATUS" 200 "a granted method answers"
as_partner "$HUB1_URL" FacilityService ListFacilityKinds '{}'
expect_eq "$STATUS:$(jq -r .code <<<"$OUT")" 403:permission_denied "an ungranted method → PERMISSION_DENIED"
expect_match "$(jq -r .message <<<"$OUT")" 'renkei\.v1\.FacilityService/ListFacilityKinds' "naming the method"
expect_eq "$REASON" ERROR_REASON_METHOD_NOT_GRANTED "with its reason"
as_partner "$HUB1_URL" ExchangeService ListFeed '{"tenant": "komae"}'
expect_eq "$STATUS:$REASON" 403:ERROR_REASON_WRONG_TENANT "another tenant's feed → PERMISSION_DENIED"
as_partner "$HUB1_URL" ExchangeService ListFeed '{"tenant": "chofu", "cursor": "x"}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 cursor:' "a bad cursor names the field"

expect_ok "grant the library service read-only" partner grant --tenant chofu --id "$PID" \
	--method 'renkei.v1.LibraryService/*' --read-only
for _ in $(seq 1 20); do # until hub 1 has reloaded the grants
	as_partner "$HUB1_URL" LibraryService PlaceHold '{}'
	[[ $REASON != ERROR_REASON_METHOD_NOT_GRANTED || $(jq -r .message <<<"$OUT") == *read-only* ]] && break
	sleep 0.05
done
expect_eq "$STATUS:$REASON" 403:ERROR_REASON_METHOD_NOT_GRANTED "a read-only grant does not allow PlaceHold"
expect_match "$(jq -r .message <<<"$OUT")" '^renkei\.v1\.LibraryService/PlaceHold: .*read-only' "saying so"
expect_ok "revoke that grant alone" partner revoke --tenant chofu --id "$PID" --method 'renkei.v1.LibraryService/*'
expect_eq "$(jq -r '[.partner.grants[].method] | join(" ")' <<<"$OUT") $(jq -r ".partner.revoked // false" <<<"$OUT")" \
	"renkei.v1.ExchangeService/* renkei.v1.FacilityService/SearchFacilities false" "the other grants stay"
sleep 1.1 # within the rate limit

# --- a booking appears in the feed ----------------------------------------------------------------
resident_add chofu alice
ALICE=$(resident_token chofu alice)
read -r FID OWNER_FID < <(sql "$RENKEI_PG" "SELECT id, owner_facility_id FROM rk_facility WHERE bookable_via_hub ORDER BY id" | tr '|' ' ' | head -1)
from=$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)
to=$(date -u -d '+5 days' +%Y-%m-%dT00:00:00Z)
slots=$(curl -s --max-time 10 -H 'content-type: application/json' --data-binary "{\"facilityIds\": [\"$OWNER_FID\"], \"window\": {\"start\": \"$from\", \"end\": \"$to\"},
	\"resident\": {\"pairwiseId\": \"probe\", \"residencyClass\": \"RESIDENCY_CLASS_RESIDENT\", \"homeMunicipality\": {\"code\": \"132080\"}}}" \
	"http://127.0.0.1:$SIM_PORT/renkei.v1.AdapterService/GetAvailability" |
	jq -c '[.facilities[0].slots[] | select(.status == "SLOT_STATUS_AVAILABLE") | .time]')
(($(jq length <<<"$slots") >= 2)) || fail "fewer than 2 free slots at the owner: $slots"
call "$ALICE" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c '.[0]' <<<"$slots"), \"attendees\": 3}" k-1
expect_eq "$STATUS" 200 "alice holds a slot"
BK1=$(jq -r .booking.id <<<"$OUT")
PAIRWISE=$(jq -r .booking.residentPairwiseId <<<"$OUT")
as_partner "$HUB1_URL" ExchangeService ListFeed '{"tenant": "chofu", "pageSize": 1000}'
expect_eq "$STATUS" 200 "ListFeed answers"
ITEM=$(jq -c ".items[] | select(.kind == \"FEED_ITEM_KIND_BOOKING\" and .id == \"$BK1\")" <<<"$OUT")
expect_eq "$(jq -r .booking.state <<<"$ITEM")" BOOKING_STATE_HELD "the held booking is in the feed"
expect_eq "$(jq -r .booking.residentPairwiseId <<<"$ITEM")" "$PAIRWISE" "with the resident's pairwise id towards chofu"
expect_eq "$(jq -r '.booking | has("accountId")' <<<"$ITEM")" false "and no account id"
expect_eq "$(jq '[.items[] | select(.kind == "FEED_ITEM_KIND_FACILITY")] | length' <<<"$OUT")" 12 "and the 12 facilities"

# --- paging: no gap, no repeat --------------------------------------------------------------------
cursor="" seen=()
for _ in $(seq 1 20); do
	as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"pageSize\": 5}"
	[[ $STATUS == 200 ]] || fail "a page failed: $OUT"
	n=$(jq '.items // [] | length' <<<"$OUT")
	((n > 0)) || break
	mapfile -t -O "${#seen[@]}" seen < <(jq -r '.items // [] | .[].modified' <<<"$OUT")
	cursor=$(jq -r .nextCursor <<<"$OUT")
	sleep 0.1 # within the rate limit
done
total=$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_feed_item i JOIN rk_tenant t ON t.id = i.tenant_id WHERE t.slug = 'chofu'")
expect_eq "${#seen[@]}" "$total" "pages of 5 add up to the feed ($total items)"
expect_eq "$(printf '%s\n' "${seen[@]}" | sort -n | uniq | wc -l)" "$total" "with no repeat"
expect_eq "$(printf '%s\n' "${seen[@]}" | sort -n -c && echo sorted)" sorted "in modified order"
expect_eq "$(jq -r .nextCursor <<<"$OUT")" "$cursor" "an empty page keeps the cursor"

# --- a library hold, as the library broker's transactions write it ---------------------------------
CHOFU=$(sql "$RENKEI_PG" "SELECT id FROM rk_tenant WHERE slug = 'chofu'")
HOLD=lh_$(openssl rand -hex 16)
sql "$RENKEI_PG" "INSERT INTO rk_library_hold (id, tenant_id, adapter_id, patron_ref, work_id, work,
	pickup_tenant_id, pickup_branch_id, pickup_branch_ja, state, home_municipality, residency_class)
	VALUES ('$HOLD', $CHOFU, 1, 'P-1', 'isbn:9784000000000', '{\"title\": {\"ja\": \"坊っちゃん\"}}',
	$CHOFU, 'chuo', '中央図書館', 'requested', '132080', 'resident')" >/dev/null
as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"kinds\": [\"FEED_ITEM_KIND_HOLD\"]}"
expect_eq "$(jq '.items // [] | length' <<<"$OUT")" 0 "a hold not yet placed at the owner is not news"
sql "$RENKEI_PG" "UPDATE rk_library_hold SET state = 'waiting', queue_position = 2, placed_at = now(),
	owner_reference = 'R-77', resident_subject = 'pw-chofu-1' WHERE id = '$HOLD'" >/dev/null
as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"kinds\": [\"FEED_ITEM_KIND_HOLD\"]}"
expect_eq "$(jq -r '.items[0].id + " " + .items[0].hold.state + " " + (.items[0].hold.queuePosition | tostring)' <<<"$OUT")" \
	"$HOLD HOLD_STATE_WAITING 2" "the placed hold is in the feed, with its queue position"
expect_eq "$(jq -r '.items[0].hold.residentPairwiseId + " " + .items[0].hold.pickupBranch.branchId' <<<"$OUT")" \
	"pw-chofu-1 chuo" "with the owner's pairwise id and the pickup branch"

LOAN=ll_$(openssl rand -hex 16)
sql "$RENKEI_PG" "INSERT INTO rk_library_loan (id, tenant_id, adapter_id, patron_ref, elibrary, work_id,
	state, home_municipality, residency_class) VALUES ('$LOAN', $CHOFU, 1, 'P-1', true, 'isbn:9784000000001',
	'checking_out', '132080', 'resident')" >/dev/null
sql "$RENKEI_PG" "UPDATE rk_library_loan SET state = 'active', borrowed_on = '2026-11-25', due_date = '2026-12-09',
	reader_url = 'https://reader.example/secret', owner_reference = 'E-9' WHERE id = '$LOAN'" >/dev/null
as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"kinds\": [\"FEED_ITEM_KIND_LOAN\"]}"
expect_eq "$(jq -r '.items | length' <<<"$OUT") $(jq -r '.items[0].loan.state + " " + .items[0].loan.dueDate' <<<"$OUT")" \
	"1 LOAN_STATE_ACTIVE 2026-12-09" "an e-book loan lent by the owner is in the feed, once"
expect_eq "$(jq -r '.items[0].loan | has("readerUrl")' <<<"$OUT")" false "without the resident's reader URL"

# --- Subscribe: backlog, then a booking confirmed after subscribing -------------------------------
envelope() { # envelope JSON: a Connect streaming request body (flags 0, big-endian length)
	printf '%02x%08x' 0 "${#1}" | unhex
	printf '%s' "$1"
}
REQ="{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"heartbeatSeconds\": 5}"
envelope "$REQ" >"$WORK/subscribe.bin"
curl -s -N --max-time 30 -H 'content-type: application/connect+json' -H "Authorization: Bearer $TOKEN" \
	--data-binary "@$WORK/subscribe.bin" "$HUB1_URL/renkei.v1.ExchangeService/Subscribe" >"$WORK/stream.out" &
STREAM_PID=$!
sleep 1
call "$ALICE" ConfirmBooking "{\"bookingId\": \"$BK1\"}" k-2
expect_eq "$(jq -r .booking.state <<<"$OUT")" BOOKING_STATE_CONFIRMED "alice confirms"
got=
for _ in $(seq 1 50); do
	if grep -a -q "BOOKING_STATE_CONFIRMED" "$WORK/stream.out"; then got=yes && break; fi
	sleep 0.1
done
expect_eq "$got" yes "Subscribe delivered the confirmation made after subscribing"
expect_match "$(grep -a -o "\"id\":\"$BK1\"" "$WORK/stream.out" | head -1)" "$BK1" "for that booking"
kill "$STREAM_PID" 2>/dev/null || true
wait "$STREAM_PID" 2>/dev/null || true
STREAM_PID=

# --- rate limit -----------------------------------------------------------------------------------
sleep 1.1
pids=()
for i in $(seq 1 25); do # at once, whatever the machine's speed
	curl -s --max-time 20 -o "$WORK/rate.$i" -w '%{http_code}' -H 'content-type: application/json' \
		-H "Authorization: Bearer $TOKEN" --data-binary '{"municipalities": ["chofu"]}' \
		"$HUB1_URL/renkei.v1.FacilityService/SearchFacilities" >"$WORK/rate.$i.status" &
	pids+=($!)
done
wait "${pids[@]}"
limited=0 retry= message=
for i in $(seq 1 25); do
	if [[ $(cat "$WORK/rate.$i.status") == 429 ]]; then
		limited=$((limited + 1))
		retry=$(jq -r '.details[0].debug.retryAfterSeconds' "$WORK/rate.$i")
		message=$(jq -r .message "$WORK/rate.$i")
	fi
done
((limited > 0)) || fail "25 calls at once never hit a limit of 10 per second"
pass "past 10 calls per second: RESOURCE_EXHAUSTED ($limited of 25)"
expect_eq "$retry" 1 "with retry_after_seconds"
expect_match "$message" 'renkei\.v1\.FacilityService/SearchFacilities' "naming the method"
sleep 1.1

# --- a deletion is a tombstone --------------------------------------------------------------------
expect_ok "remove the adapter" adapter remove --tenant chofu --name sim-chofu
as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"kinds\": [\"FEED_ITEM_KIND_FACILITY\"], \"pageSize\": 100}"
expect_eq "$(jq '[.items[] | select(.state == "FEED_ITEM_STATE_DELETED")] | length' <<<"$OUT")" 12 \
	"the removed catalogue's 12 facilities are tombstones"
expect_eq "$(jq '[.items[] | select(has("facility"))] | length' <<<"$OUT")" 0 "without data"

# --- a reader resumes from its cursor across a hub restart ---------------------------------------
as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\", \"pageSize\": 1000}"
cursor=$(jq -r .nextCursor <<<"$OUT")
hub_stop
sql "$RENKEI_PG" "UPDATE rk_library_hold SET state = 'ready', queue_position = 0,
	expires_at = now() + interval '7 days' WHERE id = '$HOLD'" >/dev/null
hub_start
HUB1_URL=$HUB_URL
for _ in $(seq 1 30); do # until the restarted hub has loaded the partners
	as_partner "$HUB1_URL" ExchangeService ListFeed "{\"tenant\": \"chofu\", \"cursor\": \"$cursor\"}"
	[[ $STATUS != 503 ]] && break
	sleep 0.1
done
expect_eq "$(jq -r '[.items[] | .id + " " + .hold.state] | join(",")' <<<"$OUT")" "$HOLD HOLD_STATE_READY" \
	"after a restart the cursor resumes with exactly the change made while the hub was down"
expect_eq "$(jq -r .items[0].modified <<<"$OUT")" "$((cursor + 1))" "with no gap"

# --- revoke on hub 1, refused on hub 2 within a second --------------------------------------------
HUB1_PID=$HUB_PID HUB1_LOG=$HUB_LOG
HUB_LOG=$WORK/hub2.log
hub_start
HUB2_URL=$HUB_URL HUB2_PID=$HUB_PID
HUB_URL=$HUB1_URL HUB_PID=$HUB1_PID HUB_LOG=$HUB1_LOG
for _ in $(seq 1 30); do # until hub 2 has loaded the partners (UNAVAILABLE before)
	as_partner "$HUB2_URL" ExchangeService ListFeed '{"tenant": "chofu", "pageSize": 1}'
	[[ $STATUS != 503 ]] && break
	sleep 0.1
done
expect_eq "$STATUS" 200 "hub 2 admits the partner's token"
began=$(date +%s%N)
expect_ok "revoke the partner on hub 1" partner revoke --tenant chofu --id "$PID"
revoked=$(date +%s%N) # the revocation is committed
expect_eq "$(jq -r .partner.revoked <<<"$OUT")" true "the partner is revoked"
refused=
for _ in $(seq 1 300); do
	as_partner "$HUB2_URL" ExchangeService ListFeed '{"tenant": "chofu", "pageSize": 1}'
	if [[ $STATUS == 403 ]]; then refused=$(date +%s%N) && break; fi
done
[[ -n $refused ]] || fail "hub 2 still admits the revoked partner"
after_commit=$(((refused - revoked) / 1000000))
echo "  hub 2 refused the revoked partner at most ${after_commit} ms after the revocation committed on hub 1" \
	"($(((refused - began) / 1000000)) ms after renkeictl partner revoke began)"
((after_commit < 1000)) || fail "revocation took ${after_commit} ms to reach hub 2"
pass "revoked on hub 1 → refused on hub 2 within 1 s ($REASON)"
expect_eq "$REASON" ERROR_REASON_PARTNER_REVOKED "as revoked"
as_partner "$HUB1_URL" FacilityService SearchFacilities '{}'
expect_eq "$STATUS" 403 "and on hub 1"
expect_eq "$(curl -s -d grant_type=client_credentials -d "client_id=$CID" \
	-d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
	-d "client_assertion=$(assertion)" "$HUB2_URL/t/chofu/token" | jq -r '.access_token // .error')" \
	unauthorized_client "and no new token is issued"
ctl partner list --tenant chofu
expect_eq "$(jq '.partners | length' <<<"$OUT")" 0 "list leaves revoked partners out"
ctl partner list --tenant chofu --include-revoked
expect_eq "$(jq -r '.partners[0].revoked' <<<"$OUT")" true "unless asked"

kill -TERM "$HUB2_PID"
status=0
wait "$HUB2_PID" || status=$?
HUB2_PID=
expect_eq "$status" 0 "hub 2 exits 0"
sim_stop chofu
hub_stop
pass "hub 1 and the sim exit 0"
