# library_test.sh — LibraryService end to end: renkeid on the real PostgreSQL of tests/run, the
# tenants of tenants/ (the 多摩六都 mutual library use between 小平市 and 清瀬市; 調布市 in no
# library agreement) and three renkei-adapter-sim processes as the cities' libraries
# (kodaira's lets 清瀬 pick up its holds: pickup_partners), registered with renkeictl.
#   - SearchCatalogue by an ISBN-10 with hyphens: one work "isbn:…" with availability in each
#     city, counts that match the holdings, a status per city; a kiyose resident sees kiyose
#     first and 調布市 marked not borrowable, the restriction naming the rule; by title in
#     Japanese; an invalid ISBN, an unknown municipality and no criteria are refused naming
#     the field;
#   - GetWork and GetHoldings of the work found;
#   - chofu hangs (3 s latency): SearchCatalogue with a 1 s deadline answers within it, chofu
#     TIMEOUT and the others OK;
#   - LinkPatron verifies the card at the city's library (a wrong PIN → PATRON_REJECTED) and
#     keeps no card number; ListPickupBranches for 小平市's items: 清瀬's and 小平's branches
#     under the agreement;
#   - PlaceHold: a kiyose resident holds kodaira's book for pickup in 清瀬 → WAITING or READY
#     under tama-rokuto-library; the same Idempotency-Key answers the same hold, with another
#     request ALREADY_EXISTS; the work again → ALREADY_HELD; a chofu resident at kodaira →
#     NOT_ELIGIBLE naming the rule; pickup in 調布 → PICKUP_BRANCH_NOT_ALLOWED; an unknown
#     branch → UNKNOWN_BRANCH; a hold at home; ListMyHolds lists both cities' holds with a
#     status per owner; CancelHold; a row left PLACING (a crash before the owner's answer was
#     stored) is finished by the recovery sweep with the same key (the owner's same reference).
# Every process must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

declare -A SIM_CONFIGS=() CODES=([kodaira]=132110 [kiyose]=132217 [chofu]=132080)

# sim_restart NAME FAULTS_JSON: the same city on the same port, now with these sim.faults.
sim_restart() {
	sim_stop "$1"
	sim_start "$1" "$(jq -c --argjson f "$2" '.sim.faults = $f' <<<"${SIM_CONFIGS[$1]}")" "${SIM_PORTS[$1]}"
}

# lib TOKEN METHOD JSON [KEY]: LibraryService over Connect JSON; sets OUT, STATUS and REASON.
lib() { call_service LibraryService "$@"; }

# timed_search DEADLINE_MS JSON: SearchCatalogue without credentials; sets OUT, STATUS, TOOK.
timed_search() {
	local result last
	result=$(curl -s --max-time 10 -w '\n%{http_code} %{time_total}' -H 'content-type: application/json' \
		-H "connect-timeout-ms: $1" --data-binary "$2" "$HUB_URL/renkei.v1.LibraryService/SearchCatalogue") ||
		fail "SearchCatalogue: curl failed"
	last=${result##*$'\n'}
	STATUS=${last% *}
	TOOK=${last#* }
	OUT=${result%$'\n'*}
}

city() { jq -r --arg s "$1" --arg f "$2" '[.statuses[] | select(.municipality.slug == $s)][0][$f] // ""' <<<"$OUT"; }

export RENKEI_PG
RENKEI_PG=$(fresh_db library_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FACILITY_AVAILABILITY_TIMEOUT_MS=2000
export RENKEI_FACILITY_BOOKING_SWEEP_MS=500
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

for c in kodaira kiyose chofu; do
	partners='[]'
	[[ $c != kodaira ]] || partners='["132217"]'
	SIM_CONFIGS[$c]="{\"adapter\": {\"name\": \"lib-$c\"}, \"municipality\": {\"code\": \"${CODES[$c]}\", \"slug\": \"$c\"},
		\"sim\": {\"facilities\": {\"enabled\": false}, \"library\": {\"branches\": 3, \"pickup_partners\": $partners}}}"
	sim_start "$c" "${SIM_CONFIGS[$c]}"
	expect_ok "register $c's library" adapter register --tenant "$c" --name "lib-$c" \
		--endpoint "http://127.0.0.1:${SIM_PORTS[$c]}" --capability library_catalogue \
		--capability library_patrons --capability library_holds --capability library_loans
	expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "$c's library adapter is ACTIVE"
done
resident_add kiyose kiyoko
resident_add chofu chika
KIYOKO=$(resident_token kiyose kiyoko)
CHIKA=$(resident_token chofu chika)
[[ $KIYOKO == ey* && $CHIKA == ey* ]] || fail "no access tokens for the residents"

# --- 1. one search across the cities ----------------------------------------------------------
lib "" SearchCatalogue '{"title": "こころ"}'
expect_eq "$STATUS" 200 "a title search in Japanese answers"
expect_eq "$(jq -c '[.statuses[] | [.municipality.slug, .status]] | sort' <<<"$OUT")" \
	'[["chofu","ANSWER_STATUS_OK"],["kiyose","ANSWER_STATUS_OK"],["kodaira","ANSWER_STATUS_OK"]]' \
	"a status per city, all OK"
ISBN13=$(jq -r '[.results[] | select(.work.title.ja == "こころ")][0].work.isbn13' <<<"$OUT")
[[ $ISBN13 =~ ^978[0-9]{10}$ ]] || fail "こころ has no ISBN-13: $OUT"
# The same book as an ISBN-10 with hyphens (978 dropped, the ISBN-10 check digit).
ISBN10=$(python3 -c "
d='$ISBN13'[3:12]; c=(11 - sum(int(x) * (10 - i) for i, x in enumerate(d)) % 11) % 11
print(d[0] + '-' + d[1:5] + '-' + d[5:9] + '-' + ('X' if c == 10 else str(c)))")
lib "" SearchCatalogue "{\"isbn\": \"$ISBN10\"}"
expect_eq "$STATUS" 200 "an ISBN-10 search ($ISBN10) answers"
expect_eq "$(jq '.results | length' <<<"$OUT")" 1 "the cities' records are one work"
expect_eq "$(jq -r '.results[0].work.id' <<<"$OUT")" "isbn:$ISBN13" "its id is the normalised ISBN-13"
expect_eq "$(jq -c '[.results[0].availability[].library.slug] | sort' <<<"$OUT")" '["chofu","kiyose","kodaira"]' \
	"with availability in each city"
expect_eq "$(jq '[.results[0].availability[] | (.availableCount // 0) == ([.holdings[] | select(.status == "HOLDING_STATUS_AVAILABLE")] | length)] | all' <<<"$OUT")" \
	true "each city's available count matches its holdings"
expect_eq "$(jq '[.results[0].availability[] | .mayBorrow] | all' <<<"$OUT")" true "anonymous callers may borrow everywhere"
WORK_ID=$(jq -r '.results[0].work.id' <<<"$OUT")

lib "$KIYOKO" SearchCatalogue "{\"isbn\": \"$ISBN13\"}"
expect_eq "$(jq -c '[.results[0].availability[].library.slug]' <<<"$OUT")" '["kiyose","kodaira","chofu"]' \
	"a kiyose resident: home first, then the partner, then the others"
expect_eq "$(jq -c '[.results[0].availability[] | .mayBorrow // false]' <<<"$OUT")" '[true,true,false]' \
	"調布市 is marked: no agreement"
expect_match "$(jq -r '.results[0].availability[2].restriction.ja' <<<"$OUT")" '調布市.*清瀬市との協定はありません' \
	"the restriction names the rule"
expect_eq "$(jq -r '.results[0].availability[1].agreement.agreementId // ""' <<<"$OUT" | grep -c .)" 1 \
	"kodaira's availability names the agreement"

lib "" SearchCatalogue '{"isbn": "978-4-10-101001-5"}'
expect_eq "$STATUS:$REASON" 400:LIBRARY_ERROR_INVALID_ISBN "an invalid check digit → INVALID_ISBN"
expect_match "$(jq -r .message <<<"$OUT")" '^isbn:' "naming the field"
lib "" SearchCatalogue '{"title": "こころ", "municipalities": ["atlantis"]}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 municipalities\[0\]' "an unknown municipality names it"
lib "" SearchCatalogue '{}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 isbn: give at least one' "a search needs a criterion"
lib "" SearchCatalogue '{"title": "こころ", "municipalities": ["kodaira", "itabashi"]}'
expect_eq "$(jq -c '[.statuses[] | [.municipality.slug, .status]]' <<<"$OUT")" \
	'[["kodaira","ANSWER_STATUS_OK"],["itabashi","ANSWER_STATUS_UNAVAILABLE"]]' \
	"only the cities named; one without a library adapter is UNAVAILABLE"

lib "" SearchCatalogue '{"author": "夏目漱石", "page": {"pageSize": 2}}'
FIRST=$(jq -c '[.results[].work.id]' <<<"$OUT")
TOKEN=$(jq -r .page.nextPageToken <<<"$OUT")
expect_eq "$(jq length <<<"$FIRST"):$([[ -n $TOKEN ]] && echo token)" 2:token "a page of two works and a next page token"
lib "" SearchCatalogue "{\"author\": \"夏目漱石\", \"page\": {\"pageSize\": 2, \"pageToken\": \"$TOKEN\"}}"
expect_eq "$(jq --argjson first "$FIRST" '[.results[].work.id] | length > 0 and (map(IN($first[])) | any | not)' <<<"$OUT")" \
	true "the next page holds other works"
lib "" SearchCatalogue "{\"author\": \"太宰治\", \"page\": {\"pageToken\": \"$TOKEN\"}}"
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 page.page_token' "a token of another search is refused"

lib "" GetWork "{\"isbn\": \"$ISBN10\"}"
expect_eq "$STATUS:$(jq -r .work.id <<<"$OUT")" "200:$WORK_ID" "GetWork by ISBN"
lib "" GetHoldings "{\"workId\": \"$WORK_ID\", \"municipalities\": [\"kodaira\"]}"
expect_eq "$STATUS:$(jq -c '[.availability[].library.slug]' <<<"$OUT")" '200:["kodaira"]' "GetHoldings of one city"
lib "" GetHoldings '{"workId": "isbn:9784101010015"}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 work_id' "a bad work id names the field"

# --- 2. a hanging city ------------------------------------------------------------------------
sim_restart chofu '{"latency": {"distribution": "fixed", "fixed_ms": 3000}}'
timed_search 1000 "{\"isbn\": \"$ISBN13\"}"
expect_eq "$STATUS" 200 "the search answers while chofu hangs"
expect_eq "$(city chofu status):$(city kodaira status):$(city kiyose status)" \
	ANSWER_STATUS_TIMEOUT:ANSWER_STATUS_OK:ANSWER_STATUS_OK "chofu TIMEOUT, the others OK"
awk -v t="$TOOK" 'BEGIN {exit !(t < 1.0)}' || fail "answered in $TOOK s, after the 1 s deadline"
pass "within the 1 s deadline ($TOOK s)"
expect_eq "$(jq -c '[.results[0].availability[].library.slug] | sort' <<<"$OUT")" '["kiyose","kodaira"]' \
	"the answer holds what the others gave"
sim_restart chofu '{}'

# --- 3. library cards ---------------------------------------------------------------------------
lib "$KIYOKO" LinkPatron '{"library": "kodaira", "cardNumber": "20481234", "pin": "0000"}' link-wrong
expect_eq "$STATUS:$REASON" 403:LIBRARY_ERROR_PATRON_REJECTED "a wrong PIN → PATRON_REJECTED"
lib "$KIYOKO" LinkPatron '{"library": "kodaira", "cardNumber": "20481234", "pin": "1234"}' link-kodaira
expect_eq "$STATUS:$(jq -r '.link.library.slug + " " + .link.cardNumberMasked' <<<"$OUT")" \
	"200:kodaira ******1234" "the card at kodaira is linked, masked"
lib "$KIYOKO" LinkPatron '{"library": "kiyose", "cardNumber": "30561111", "pin": "1111"}' link-kiyose
expect_eq "$STATUS" 200 "and the card at home"
lib "$KIYOKO" ListMyPatronLinks '{}'
expect_eq "$(jq -c '[.links[].library.slug]' <<<"$OUT")" '["kodaira","kiyose"]' "ListMyPatronLinks: both"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_library_patron WHERE patron_ref LIKE '%20481234%' OR card_masked LIKE '%2048%'")" 0 \
	"no card number is stored"
grep -q 20481234 "$HUB_LOG" && fail "the card number is in the hub's log"
pass "no card number in the hub's log"
lib "$CHIKA" LinkPatron '{"library": "kodaira", "cardNumber": "40001234", "pin": "1234"}' link-chika
expect_eq "$STATUS" 200 "a chofu resident links a kodaira card too"

lib "$KIYOKO" ListPickupBranches '{"owner": "kodaira"}'
expect_eq "$STATUS:$(jq -c '[.branches[] | .municipality.slug + "/" + .branchId]' <<<"$OUT")" \
	'200:["kiyose/central","kiyose/b2","kiyose/b3","kodaira/central","kodaira/b2","kodaira/b3"]' \
	"pickup for kodaira's items: home's branches, then kodaira's"
expect_match "$(jq -r .agreement.agreementId <<<"$OUT")" '^[0-9]+$' "under the agreement"

# --- 4. holds ---------------------------------------------------------------------------------
HOLD_REQ="{\"workId\": \"$WORK_ID\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"kiyose\", \"pickupBranchId\": \"central\"}"
lib "$KIYOKO" PlaceHold "$HOLD_REQ" hold-1
[[ $STATUS == 200 ]] || fail "PlaceHold: $STATUS $OUT"
pass "a kiyose resident holds kodaira's book for pickup in 清瀬"
HOLD=$(jq -r .hold.id <<<"$OUT")
expect_match "$(jq -r .hold.state <<<"$OUT")" '^HOLD_STATE_(WAITING|READY)$' "placed at kodaira"
expect_eq "$(jq -r '[.hold.owner.slug, .hold.pickupBranch.municipality.slug, .hold.pickupBranch.branchId] | join(" ")' <<<"$OUT")" \
	"kodaira kiyose central" "owned by kodaira, collected at 清瀬 central"
expect_match "$(jq -r '.hold.agreement.agreementId + " " + .hold.ownerReference + " " + .hold.work.title.ja' <<<"$OUT")" \
	'^[0-9]+ kodaira-H[0-9]+ こころ$' "with the agreement, the owner's reference and the work"
OWNER_REF=$(jq -r .hold.ownerReference <<<"$OUT")
lib "$KIYOKO" PlaceHold "$HOLD_REQ" hold-1
expect_eq "$STATUS:$(jq -r .hold.id <<<"$OUT")" "200:$HOLD" "the same key again answers the same hold"
lib "$KIYOKO" PlaceHold "${HOLD_REQ/central/b2}" hold-1
expect_eq "$STATUS:$REASON" 409:ERROR_REASON_IDEMPOTENCY_KEY_REUSED "the key with another request → ALREADY_EXISTS"
lib "$KIYOKO" PlaceHold "$HOLD_REQ" hold-2
expect_eq "$STATUS:$REASON" 409:LIBRARY_ERROR_ALREADY_HELD "the same work again → ALREADY_HELD"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_library_hold")" 1 "one row for all that"

lib "$CHIKA" PlaceHold "{\"workId\": \"$WORK_ID\", \"owner\": \"kodaira\", \"pickupBranchId\": \"central\"}" hold-chika
expect_eq "$STATUS:$REASON" 403:LIBRARY_ERROR_NOT_ELIGIBLE "a chofu resident at kodaira → NOT_ELIGIBLE"
expect_match "$(jq -r '.details[0].debug.localizedMessage.ja' <<<"$OUT")" '小平市の図書館で予約できるのは.*調布市' \
	"naming the rule in Japanese"
expect_match "$(jq -r .message <<<"$OUT")" 'no agreement of Kodaira City lets residents of Chofu City' "and for the developer"
lib "$KIYOKO" PlaceHold "{\"workId\": \"$WORK_ID\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"chofu\", \"pickupBranchId\": \"central\"}" hold-chofu
expect_eq "$STATUS:$REASON" 400:LIBRARY_ERROR_PICKUP_BRANCH_NOT_ALLOWED "pickup in 調布 → PICKUP_BRANCH_NOT_ALLOWED"
expect_match "$(jq -r .message <<<"$OUT")" '^pickup_municipality: ' "naming the field"
lib "" SearchCatalogue '{"title": "吾輩は猫である"}'
NEKO=$(jq -r '.results[0].work.id' <<<"$OUT")
lib "$KIYOKO" PlaceHold "{\"workId\": \"$NEKO\", \"owner\": \"kiyose\", \"pickupBranchId\": \"nowhere\"}" hold-nowhere
expect_eq "$STATUS:$REASON" 400:LIBRARY_ERROR_UNKNOWN_BRANCH "an unknown branch → UNKNOWN_BRANCH"
lib "$KIYOKO" PlaceHold "{\"workId\": \"$NEKO\", \"owner\": \"kiyose\", \"pickupBranchId\": \"b2\"}" hold-home
expect_eq "$STATUS:$(jq -r .hold.owner.slug <<<"$OUT")" 200:kiyose "a hold at home"
HOME_HOLD=$(jq -r .hold.id <<<"$OUT")

lib "$KIYOKO" ListMyHolds '{}'
expect_eq "$STATUS:$(jq -c '[.holds[].owner.slug] | sort' <<<"$OUT")" '200:["kiyose","kodaira"]' "ListMyHolds: both cities in one list"
expect_eq "$(jq -c '[.statuses[] | [.municipality.slug, .status]] | sort' <<<"$OUT")" \
	'[["kiyose","ANSWER_STATUS_OK"],["kodaira","ANSWER_STATUS_OK"]]' "refreshed live from each owner"
lib "$CHIKA" ListMyHolds '{}'
expect_eq "$(jq '.holds | length' <<<"$OUT")" 0 "another resident sees none of them"

lib "$KIYOKO" CancelHold "{\"holdId\": \"$HOME_HOLD\"}" cancel-1
expect_eq "$STATUS:$(jq -r .hold.state <<<"$OUT")" 200:HOLD_STATE_CANCELLED "CancelHold → CANCELLED"
lib "$CHIKA" CancelHold "{\"holdId\": \"$HOLD\"}" cancel-2
expect_eq "$STATUS" 404 "someone else's hold is NOT_FOUND"
lib "$KIYOKO" ListMyHolds '{}'
expect_eq "$(jq -c '[.holds[].id]' <<<"$OUT")" "[\"$HOLD\"]" "the cancelled hold has left the list"

# A crash after the row went PLACING, before the owner's answer was stored: the sweep asks the
# owner again with the same key and stores what it answers (the same hold there).
sql "$RENKEI_PG" "UPDATE rk_library_hold SET state = 'placing', owner_reference = '', lease_until = now() WHERE id = '$HOLD'" >/dev/null
for _ in $(seq 1 50); do
	[[ $(sql "$RENKEI_PG" "SELECT state FROM rk_library_hold WHERE id = '$HOLD'") == placing ]] || break
	sleep 0.2
done
expect_match "$(sql "$RENKEI_PG" "SELECT state || ' ' || owner_reference FROM rk_library_hold WHERE id = '$HOLD'")" \
	"^(waiting|ready) $OWNER_REF\$" "the sweep finished the PLACING row with the owner's same hold"

for c in kodaira kiyose chofu; do sim_stop "$c"; done
hub_stop
pass "the hub and the sims exit 0"
