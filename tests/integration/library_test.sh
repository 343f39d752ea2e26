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
#     TIMEOUT and the others OK.
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

for c in kodaira kiyose chofu; do sim_stop "$c"; done
hub_stop
pass "the hub and the sims exit 0"
