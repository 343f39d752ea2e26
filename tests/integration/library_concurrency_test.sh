# library_concurrency_test.sh — LibraryService under contention, end to end: renkeid on the real
# PostgreSQL of tests/run, the tenants of tenants/ (多摩六都: 清瀬市 and 東村山市 residents borrow
# from 小平市) and three renkei-adapter-sim processes as the cities' libraries.
#   - e-book licence limits: 50 清瀬市 residents check out 清瀬市's e-book of 銀河鉄道の夜 at once
#     (ElibraryCheckout, one key each, all sent together). The sim gives that record one licence
#     (its licence count comes from the seed, by default a hash of the municipality code: 132217
#     → 1 for 銀河鉄道の夜). Exactly one gets LOAN_STATE_ACTIVE, the 49 others
#     NO_LICENCE_AVAILABLE; the hub's rows say the same (one active, 49 failed) and only the
#     winner sees a loan in ListMyLoans; once returned, the licence lends to one of the others;
#   - holds queue order across cities: a 清瀬市 resident, then a 東村山市 resident, then a second
#     清瀬市 resident hold the same 小平市 book with one copy on 小平市's shelves: the first READY
#     (the copy set aside), the others WAITING at positions 1 and 2 in the order placed (in
#     PlaceHold's answers and in ListMyHolds); the 東村山市 resident cancels → the 清瀬市 one
#     behind moves up to 1.
# Every process must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

declare -A CODES=([kodaira]=132110 [kiyose]=132217 [higashimurayama]=132136)
CHECKOUTS=50

export RENKEI_PG
RENKEI_PG=$(fresh_db library_concurrency_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

# lib TOKEN METHOD JSON [KEY]: LibraryService over Connect JSON; sets OUT, STATUS and REASON.
lib() { call_service LibraryService "$@"; }

for c in kodaira kiyose higashimurayama; do
	partners='[]'
	[[ $c != kodaira ]] || partners='["132217", "132136"]'
	sim_start "$c" "{\"adapter\": {\"name\": \"lib-$c\"}, \"municipality\": {\"code\": \"${CODES[$c]}\", \"slug\": \"$c\"},
		\"sim\": {\"facilities\": {\"enabled\": false}, \"library\": {\"branches\": 2, \"pickup_partners\": $partners}}}"
	expect_ok "register $c's library" adapter register --tenant "$c" --name "lib-$c" \
		--endpoint "http://127.0.0.1:${SIM_PORTS[$c]}" --capability library_catalogue \
		--capability library_patrons --capability library_holds --capability library_loans \
		--capability elibrary
	expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "$c's library adapter is ACTIVE"
done

# --- 1. 50 concurrent checkouts of a one-licence e-book ------------------------------------------
TOKENS=()
for ((i = 1; i <= CHECKOUTS; i++)); do
	resident_add kiyose "reader$i"
	TOKENS[i]=$(resident_token kiyose "reader$i")
	[[ ${TOKENS[i]} == ey* ]] || fail "no access token for reader$i"
	card=$((30570000 + i))
	lib "${TOKENS[i]}" LinkPatron "{\"library\": \"kiyose\", \"cardNumber\": \"$card\", \"pin\": \"${card: -4}\"}" "link-$i"
	[[ $STATUS == 200 ]] || fail "reader$i could not link a kiyose card: $STATUS $OUT"
done
pass "$CHECKOUTS kiyose residents logged in with their cards linked"

lib "" SearchCatalogue '{"title": "銀河鉄道の夜", "municipalities": ["kiyose"], "format": "WORK_FORMAT_EBOOK"}'
EBOOK=$(jq -r '[.results[] | select(.work.format == "WORK_FORMAT_EBOOK")][0].work.id // ""' <<<"$OUT")
[[ $EBOOK == isbn:* ]] || fail "kiyose has no e-book of 銀河鉄道の夜: $OUT"

# All at once: each resident's request in its own curl, started together behind one gate.
mkdir -p "$WORK/checkout"
CURLS=()
exec {gate}<> <(:)
for ((i = 1; i <= CHECKOUTS; i++)); do
	(
		read -r -t 30 -u "$gate" _ || true
		curl -s --max-time 60 -o "$WORK/checkout/$i.json" -w '%{http_code}' -D "$WORK/checkout/$i.headers" \
			-H 'content-type: application/json' -H "Authorization: Bearer ${TOKENS[i]}" \
			-H "Idempotency-Key: galaxy-$i" --data-binary "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" \
			"$HUB_URL/renkei.v1.LibraryService/ElibraryCheckout" >"$WORK/checkout/$i.status"
	) &
	CURLS+=($!)
done
sleep 0.5
for ((i = 1; i <= CHECKOUTS; i++)); do echo go >&"$gate"; done
wait "${CURLS[@]}"
exec {gate}>&-

WINNERS=() REFUSED=0 OTHER=()
for ((i = 1; i <= CHECKOUTS; i++)); do
	status=$(cat "$WORK/checkout/$i.status")
	reason=$(tr -d '\r' <"$WORK/checkout/$i.headers" | sed -n 's/^renkei-error-reason: //ip')
	if [[ $status == 200 && $(jq -r .loan.state "$WORK/checkout/$i.json") == LOAN_STATE_ACTIVE ]]; then
		WINNERS+=("$i")
	elif [[ $status:$reason == 429:LIBRARY_ERROR_NO_LICENCE_AVAILABLE ]]; then
		REFUSED=$((REFUSED + 1))
	else
		OTHER+=("reader$i: $status $reason $(head -c 300 "$WORK/checkout/$i.json")")
	fi
done
((${#OTHER[@]} == 0)) || fail "answers other than a loan or NO_LICENCE_AVAILABLE: ${OTHER[*]}"
expect_eq "${#WINNERS[@]} $REFUSED" "1 $((CHECKOUTS - 1))" \
	"$CHECKOUTS checkouts at once of a one-licence e-book: exactly one loan, $((CHECKOUTS - 1)) NO_LICENCE_AVAILABLE"
W=${WINNERS[0]}
WINNER_LOAN=$(jq -r .loan.id "$WORK/checkout/$W.json")
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FILTER (WHERE state = 'active') || ' ' || count(*) FILTER (WHERE state = 'failed' AND error = 'LIBRARY_ERROR_NO_LICENCE_AVAILABLE') || ' ' || count(*) FROM rk_library_loan WHERE elibrary")" \
	"1 $((CHECKOUTS - 1)) $CHECKOUTS" "the hub's rows: one active, the others failed, one per checkout"
lib "${TOKENS[W]}" ListMyLoans '{}'
expect_eq "$STATUS:$(jq -c '[.loans[] | [.id, .state]]' <<<"$OUT")" "200:[[\"$WINNER_LOAN\",\"LOAN_STATE_ACTIVE\"]]" \
	"the winner's ListMyLoans (refreshed from kiyose's adapter) holds that loan"
L=$((W % CHECKOUTS + 1))
lib "${TOKENS[L]}" ListMyLoans '{}'
expect_eq "$STATUS:$(jq '.loans // [] | length' <<<"$OUT")" 200:0 "a refused resident has no loan"
lib "${TOKENS[L]}" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" "galaxy-$L"
expect_eq "$STATUS:$REASON" 429:LIBRARY_ERROR_NO_LICENCE_AVAILABLE "the refused key answers the refusal again"

lib "${TOKENS[W]}" ElibraryReturn "{\"loanId\": \"$WINNER_LOAN\"}" return-galaxy
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_RETURNED "the winner returns it"
lib "${TOKENS[L]}" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" "galaxy-$L-again"
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_ACTIVE "the licence now lends to reader$L"
lib "${TOKENS[W]}" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" "galaxy-$W-again"
expect_eq "$STATUS:$REASON" 429:LIBRARY_ERROR_NO_LICENCE_AVAILABLE "and to no one else"

# --- 2. holds queue order across cities ----------------------------------------------------------
resident_add kiyose kiyoko
resident_add higashimurayama haruto
resident_add kiyose kenta
declare -A HOLDER_TOKEN=() HOLDER_HOME=([kiyoko]=kiyose [haruto]=higashimurayama [kenta]=kiyose)
n=0
for who in kiyoko haruto kenta; do
	n=$((n + 1))
	HOLDER_TOKEN[$who]=$(resident_token "${HOLDER_HOME[$who]}" "$who")
	card=$((20480000 + n))
	lib "${HOLDER_TOKEN[$who]}" LinkPatron "{\"library\": \"kodaira\", \"cardNumber\": \"$card\", \"pin\": \"${card: -4}\"}" "link-$who"
	expect_eq "$STATUS" 200 "$who (${HOLDER_HOME[$who]}) links a kodaira card"
done

# A print book with one copy on kodaira's shelves: the first hold takes it (READY), the others wait.
lib "" SearchCatalogue '{"subject": "9", "municipalities": ["kodaira"], "format": "WORK_FORMAT_PRINT", "page": {"pageSize": 50}}'
WORK_ID=$(jq -r '[.results[] | select([.availability[] | select(.library.slug == "kodaira") | .availableCount // 0] | add == 1)][0].work.id // ""' <<<"$OUT")
[[ $WORK_ID == isbn:* ]] || fail "no kodaira book with exactly one copy on the shelf: $OUT"

positions() { # each holder's live hold of WORK_ID in ListMyHolds: its state, or its queue position when WAITING
	local who out=()
	for who in "$@"; do
		lib "${HOLDER_TOKEN[$who]}" ListMyHolds '{}'
		[[ $STATUS == 200 ]] || fail "ListMyHolds of $who: $STATUS $OUT"
		out+=("$who:$(jq -r --arg w "$WORK_ID" '[(.holds // [])[] | select(.work.id == $w)
			| if .state == "HOLD_STATE_WAITING" then .queuePosition else .state end][0] // "none"' <<<"$OUT")")
	done
	echo "${out[*]}"
}
declare -A WANT=([kiyoko]="HOLD_STATE_READY 0" [haruto]="HOLD_STATE_WAITING 1" [kenta]="HOLD_STATE_WAITING 2")
declare -A HOLD_ID=()
for who in kiyoko haruto kenta; do
	lib "${HOLDER_TOKEN[$who]}" PlaceHold "{\"workId\": \"$WORK_ID\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"${HOLDER_HOME[$who]}\", \"pickupBranchId\": \"central\"}" "hold-$who"
	expect_eq "$STATUS:$(jq -r '.hold.state + " " + (.hold.queuePosition // 0 | tostring)' <<<"$OUT")" "200:${WANT[$who]}" \
		"$who (${HOLDER_HOME[$who]}) holds it: ${WANT[$who]}"
	HOLD_ID[$who]=$(jq -r .hold.id <<<"$OUT")
done
expect_eq "$(positions kiyoko haruto kenta)" "kiyoko:HOLD_STATE_READY haruto:1 kenta:2" \
	"ListMyHolds: the shelf copy to the first, the queue in the order placed across cities"
lib "${HOLDER_TOKEN[haruto]}" CancelHold "{\"holdId\": \"${HOLD_ID[haruto]}\"}" cancel-haruto
expect_eq "$STATUS" 200 "the first in the queue (東村山市) cancels"
expect_eq "$(positions kiyoko haruto kenta)" "kiyoko:HOLD_STATE_READY haruto:none kenta:1" \
	"haruto's hold has left ListMyHolds, the one behind (清瀬市) moves up to 1"

for c in kodaira kiyose higashimurayama; do sim_stop "$c"; done
hub_stop
pass "the hub and the sims exit 0"
