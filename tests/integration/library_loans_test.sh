# library_loans_test.sh — LibraryService loans end to end: renkeid on the real PostgreSQL of
# tests/run, the tenants of tenants/ (多摩六都: 小平市 and 清瀬市 share library.loan, not the
# e-library) and two renkei-adapter-sim processes as the cities' libraries (with their e-books;
# kodaira's lets 清瀬 pick up its holds).
#   - a print book lent at kodaira's counter (the sim's own Checkout, called straight over
#     gRPC as the library's system would) shows in ListMyLoans with a hub Loan.id, a status per
#     city; Renew through the hub: renewals 1, the same key answers the same renewal, a second
#     key renews again, a third is LIBRARY_ERROR_RENEWAL_REFUSED (twice at most) and that key
#     answers the refusal again; another resident's Renew is NOT_FOUND; ElibraryReturn of a
#     print loan is refused naming loan_id;
#   - ElibraryCheckout of 走れメロス at kiyose's e-library: ACTIVE with a reader URL; the same
#     key → the same loan, another key → ALREADY_ON_LOAN; at kodaira (no e-library agreement)
#     → NOT_ELIGIBLE naming the rule; more residents than licences → NO_LICENCE_AVAILABLE;
#     ListMyLoans holds both cities' loans in one list, earliest due first;
#   - ElibraryReturn → RETURNED (the same key again too), the licence is free for the resident
#     refused before; a loan left RETURNING (a crash before the owner's answer was stored) is
#     finished by the recovery sweep; the print book returned at the counter leaves the list
#     (includeReturned shows it RETURNED); bad loan ids and work ids name the field;
#   - the exchange log: the cross-city card link, each renewal of kodaira's book, a hold at
#     kodaira and its cancellation have receipts (PATRON_LINKED, LOAN_RENEWED, HOLD_PLACED,
#     HOLD_CANCELLED) that kodaira and kiyose both fetch alike; nothing at home has one;
#   - a resident verified by certificate login holds at kodaira and borrows kiyose's e-book
#     without a card: linked automatically (VerifyPatron CERTIFICATE); a password-login one is
#     PATRON_NOT_LINKED;
#   - anchoring overdue (a 1 s gap, no TSA): a cross-city hold is refused
#     EXCHANGE_ANCHORING_OVERDUE before kodaira is asked; listings and changes at home go on.
# Every process must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/adapter_call.sh"

declare -A CODES=([kodaira]=132110 [kiyose]=132217)

# lib TOKEN METHOD JSON [KEY]: LibraryService over Connect JSON; sets OUT, STATUS and REASON.
lib() { call_service LibraryService "$@"; }

loan_of() { jq -r --arg id "$1" --arg f "$2" '[.loans[] | select(.id == $id)][0][$f] // ""' <<<"$OUT"; }

export RENKEI_PG
RENKEI_PG=$(fresh_db library_loans_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FACILITY_BOOKING_SWEEP_MS=500
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

for c in kodaira kiyose; do
	partners='[]'
	[[ $c != kodaira ]] || partners='["132217"]'
	sim_start "$c" "{\"adapter\": {\"name\": \"lib-$c\"}, \"municipality\": {\"code\": \"${CODES[$c]}\", \"slug\": \"$c\"},
		\"sim\": {\"facilities\": {\"enabled\": false}, \"library\": {\"branches\": 2, \"pickup_partners\": $partners}}}"
	expect_ok "register $c's library" adapter register --tenant "$c" --name "lib-$c" \
		--endpoint "http://127.0.0.1:${SIM_PORTS[$c]}" --capability library_catalogue \
		--capability library_patrons --capability library_holds --capability library_loans \
		--capability elibrary
	expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "$c's library adapter is ACTIVE"
done
resident_add kiyose kiyoko
resident_add kiyose kenta
resident_add kiyose kaori
KIYOKO=$(resident_token kiyose kiyoko)
KENTA=$(resident_token kiyose kenta)
KAORI=$(resident_token kiyose kaori)
[[ $KIYOKO == ey* && $KENTA == ey* && $KAORI == ey* ]] || fail "no access tokens for the residents"

lib "$KIYOKO" LinkPatron '{"library": "kodaira", "cardNumber": "20481234", "pin": "1234"}' link-kodaira
expect_eq "$STATUS" 200 "kiyoko links her kodaira card"
lib "$KIYOKO" LinkPatron '{"library": "kiyose", "cardNumber": "30561111", "pin": "1111"}' link-kiyose
expect_eq "$STATUS" 200 "and her kiyose card"
lib "$KENTA" LinkPatron '{"library": "kiyose", "cardNumber": "30562222", "pin": "2222"}' link-kenta
expect_eq "$STATUS" 200 "kenta links his kiyose card"
lib "$KAORI" LinkPatron '{"library": "kiyose", "cardNumber": "30563333", "pin": "3333"}' link-kaori
expect_eq "$STATUS" 200 "kaori links her kiyose card"

lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$STATUS:$(jq '.loans | length' <<<"$OUT")" 200:0 "no loans yet"
expect_eq "$(jq -c '[.statuses[] | [.municipality.code, .status]] | sort' <<<"$OUT")" \
	'[["132110","ANSWER_STATUS_OK"],["132217","ANSWER_STATUS_OK"]]' "each linked city asked"

# --- 1. a print loan made at kodaira's counter, renewed through the hub --------------------------
lib "" SearchCatalogue '{"author": "夏目漱石", "municipalities": ["kodaira"], "format": "WORK_FORMAT_PRINT"}'
read -r ITEM BRANCH WORK_TITLE < <(jq -r '[.results[] | .work.title.ja as $t | .availability[].holdings[]
	| select(.status == "HOLDING_STATUS_AVAILABLE") | "\(.itemId) \(.branchId) \($t)"][0] // ""' <<<"$OUT")
[[ -n $ITEM ]] || fail "no book of 夏目漱石 on kodaira's shelves: $OUT"
PATRON=$(sql "$RENKEI_PG" "SELECT p.patron_ref FROM rk_library_patron p JOIN rk_tenant t ON t.id = p.tenant_id
	JOIN rk_identity_account a ON a.id = p.account_id WHERE t.slug = 'kodaira' AND a.username = 'kiyoko'")
# kodaira's counter: its own system calls the library adapter (the sim) directly.
adapter_call "${SIM_PORTS[kodaira]}" Checkout \
	"idempotency_key { key: \"counter-1\" } patron_id: \"$PATRON\" item_id: \"$ITEM\" branch_id: \"$BRANCH\""
expect_eq "$GRPC_STATUS" 0 "kodaira's counter lends $WORK_TITLE ($ITEM) to kiyoko"
COUNTER_REF=$(answer_field owner_reference)
[[ -n $COUNTER_REF ]] || fail "the counter's answer has no loan reference: $ANSWER"

lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$STATUS:$(jq '.loans | length' <<<"$OUT")" 200:1 "ListMyLoans shows the counter's loan"
PRINT=$(jq -r '.loans[0].id' <<<"$OUT")
expect_match "$PRINT" '^ll_[0-9a-f]{32}$' "with a hub loan id"
expect_eq "$(jq -r '.loans[0] | [.owner.slug, .branchId, .itemId, .ownerReference, .state, (.elibrary // false), .work.title.ja] | join(" ")' <<<"$OUT")" \
	"kodaira $BRANCH $ITEM $COUNTER_REF LOAN_STATE_ACTIVE false $WORK_TITLE" "owner, branch, item, state and work as kodaira lent it"
DUE=$(jq -r '.loans[0].dueDate' <<<"$OUT")
expect_match "$DUE" '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' "with its due date"
expect_match "$(jq -r '.loans[0].agreement.agreementId // ""' <<<"$OUT")" '^[0-9]+$' "under the mutual-use agreement"
lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$(jq -r '.loans[0].id' <<<"$OUT")" "$PRINT" "listing again keeps the loan's id"

lib "$KIYOKO" Renew "{\"loanId\": \"$PRINT\"}" renew-1
expect_eq "$STATUS:$(jq -r '.loan.renewals' <<<"$OUT")" 200:1 "Renew → renewals 1"
expect_eq "$(jq -r '.loan.dueDate' <<<"$OUT")" "$DUE" "due 14 days from today (as lent today)"
lib "$KIYOKO" Renew "{\"loanId\": \"$PRINT\"}" renew-1
expect_eq "$STATUS:$(jq -r '.loan.renewals' <<<"$OUT")" 200:1 "the same key answers the same renewal"
lib "$KIYOKO" Renew "{\"loanId\": \"$PRINT\"}" renew-2
expect_eq "$STATUS:$(jq -r '.loan.renewals' <<<"$OUT")" 200:2 "another key renews again"
lib "$KIYOKO" Renew "{\"loanId\": \"$PRINT\"}" renew-3
expect_eq "$STATUS:$REASON" 400:LIBRARY_ERROR_RENEWAL_REFUSED "a third renewal → RENEWAL_REFUSED"
lib "$KIYOKO" Renew "{\"loanId\": \"$PRINT\"}" renew-3
expect_eq "$STATUS:$REASON" 400:LIBRARY_ERROR_RENEWAL_REFUSED "that key answers the refusal again"
expect_eq "$(sql "$RENKEI_PG" "SELECT renewals || ' ' || renewing FROM rk_library_loan WHERE id = '$PRINT'")" "2 0" \
	"the row: two renewals, none pending"
lib "$KENTA" Renew "{\"loanId\": \"$PRINT\"}" renew-kenta
expect_eq "$STATUS" 404 "someone else's loan is NOT_FOUND"
lib "$KIYOKO" Renew '{"loanId": "L123"}' renew-bad
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 loan_id' "a bad loan id names the field"
lib "$KIYOKO" ElibraryReturn "{\"loanId\": \"$PRINT\"}" return-print
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 loan_id: a print loan goes back at a library counter' \
	"a print loan is not returned through the hub"

# --- 2. e-books ---------------------------------------------------------------------------------
lib "" SearchCatalogue '{"title": "走れメロス", "municipalities": ["kiyose"], "format": "WORK_FORMAT_EBOOK"}'
EBOOK=$(jq -r '[.results[] | select(.work.format == "WORK_FORMAT_EBOOK")][0].work.id // ""' <<<"$OUT")
[[ $EBOOK == isbn:* ]] || fail "kiyose has no e-book of 走れメロス: $OUT"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-1
expect_eq "$STATUS:$(jq -r '.loan.state' <<<"$OUT")" 200:LOAN_STATE_ACTIVE "ElibraryCheckout → ACTIVE"
EL=$(jq -r .loan.id <<<"$OUT")
expect_match "$(jq -r '[.loan.elibrary, .loan.readerUrl, .loan.owner.slug, .loan.work.title.ja] | join(" ")' <<<"$OUT")" \
	'^true https://kiyose\.example\.jp/ebook/read/[^ ]+ kiyose 走れメロス$' "an e-library loan with its reader URL"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-1
expect_eq "$STATUS:$(jq -r .loan.id <<<"$OUT")" "200:$EL" "the same key answers the same loan"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-2
expect_eq "$STATUS:$REASON" 409:LIBRARY_ERROR_ALREADY_ON_LOAN "the e-book again → ALREADY_ON_LOAN"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kodaira\"}" ebook-kodaira
expect_eq "$STATUS:$REASON" 403:LIBRARY_ERROR_NOT_ELIGIBLE "kodaira's e-library (no agreement for it) → NOT_ELIGIBLE"
expect_match "$(jq -r '.details[0].debug.localizedMessage.ja' <<<"$OUT")" '小平市の電子図書館.*清瀬市' "naming the rule"
lib "$KIYOKO" ElibraryCheckout '{"workId": "isbn:123", "library": "kiyose"}' ebook-bad
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 work_id' "a bad work id names the field"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\"}" ebook-nolib
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 library' "a missing library names the field"

# Licences: one or two per e-book in the sim; three residents at once leave one refused.
lib "$KENTA" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-kenta
KENTA_STATUS=$STATUS:$REASON
KENTA_LOAN=$(jq -r '.loan.id // ""' <<<"$OUT")
lib "$KAORI" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-kaori
KAORI_STATUS=$STATUS:$REASON
LENT=0
[[ ${KENTA_STATUS%%:*} != 200 ]] || LENT=1
expect_match "$KENTA_STATUS $KAORI_STATUS" '429:LIBRARY_ERROR_NO_LICENCE_AVAILABLE$' \
	"once every licence is lent → NO_LICENCE_AVAILABLE"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FILTER (WHERE state = 'active') || ' ' || count(*) FILTER (WHERE state = 'failed' AND error = 'LIBRARY_ERROR_NO_LICENCE_AVAILABLE') FROM rk_library_loan WHERE elibrary")" \
	"$((1 + LENT)) $((2 - LENT))" "the rows: the lent ones active, the refused ones failed"

lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$STATUS:$(jq -c '[.loans[] | .owner.slug] | sort' <<<"$OUT")" '200:["kiyose","kodaira"]' \
	"ListMyLoans: both cities' loans in one list"
expect_eq "$(jq '[.loans[].dueDate] == ([.loans[].dueDate] | sort)' <<<"$OUT")" true "earliest due date first"

lib "$KIYOKO" ElibraryReturn "{\"loanId\": \"$EL\"}" return-1
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_RETURNED "ElibraryReturn → RETURNED"
expect_match "$(jq -r '.loan.returnedAt' <<<"$OUT")" '^20[0-9-]+T' "with the time"
lib "$KIYOKO" ElibraryReturn "{\"loanId\": \"$EL\"}" return-1
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_RETURNED "the same key again: RETURNED"
lib "$KAORI" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-kaori-2
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_ACTIVE "the returned licence lends to kaori"
KAORI_LOAN=$(jq -r .loan.id <<<"$OUT")
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-again
expect_eq "$STATUS:$REASON" 429:LIBRARY_ERROR_NO_LICENCE_AVAILABLE "and kiyoko, now, waits for one"

# A crash after the row went RETURNING, before the owner was asked: the sweep returns it.
sql "$RENKEI_PG" "UPDATE rk_library_loan SET state = 'returning', return_from = 'active', lease_until = now() WHERE id = '$KAORI_LOAN'" >/dev/null
for _ in $(seq 1 50); do
	[[ $(sql "$RENKEI_PG" "SELECT state FROM rk_library_loan WHERE id = '$KAORI_LOAN'") == returning ]] || break
	sleep 0.2
done
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_library_loan WHERE id = '$KAORI_LOAN'")" returned \
	"the sweep finished the RETURNING row at the owner"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-after-sweep
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_ACTIVE "the owner has the licence back"

# --- 3. the print book returned at kodaira's counter --------------------------------------------
adapter_call "${SIM_PORTS[kodaira]}" ReturnLoan \
	"idempotency_key { key: \"counter-return-1\" } patron_id: \"$PATRON\" owner_reference: \"$COUNTER_REF\""
expect_eq "$GRPC_STATUS" 0 "kodaira's counter takes the book back"
lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$(jq -c '[(.loans // [])[].id] | index("'"$PRINT"'")' <<<"$OUT")" null "it has left ListMyLoans"
lib "$KIYOKO" ListMyLoans '{"includeReturned": true}'
expect_eq "$(loan_of "$PRINT" state)" LOAN_STATE_RETURNED "includeReturned shows it RETURNED"
expect_eq "$(loan_of "$EL" state)" LOAN_STATE_RETURNED "and the returned e-book"
lib "$KENTA" ListMyLoans '{"includeReturned": true}'
expect_eq "$(jq -c '[(.loans // [])[].id] | (index("'"$PRINT"'") // index("'"$EL"'"))' <<<"$OUT")" null \
	"another resident sees none of kiyoko's loans"
[[ -z $KENTA_LOAN ]] || expect_eq "$(loan_of "$KENTA_LOAN" state)" LOAN_STATE_ACTIVE "kenta sees his own"

# --- 4. the exchange log: cross-city changes have receipts both cities fetch --------------------
# receipt_of RECEIPT: "KIND PROVIDER HOME RESOURCE-TYPE RESOURCE-ID" as kodaira and as kiyose
# read it (GetReceipt with the admin token); both must agree.
receipt_of() {
	local city out=()
	for city in kodaira kiyose; do
		out+=("$(curl -s -H "Authorization: Bearer $RENKEI_ADMIN_TOKEN" -H 'content-type: application/json' \
			-d "{\"tenant\": \"$city\", \"receiptId\": \"$1\"}" "$HUB_URL/renkei.v1.ExchangeService/GetReceipt" |
			jq -r '.receipt | [.kind, .provider.slug, .home.slug, (.payloadJson | fromjson | .resource.type, .resource.id)] | join(" ")')")
	done
	[[ ${out[0]} == "${out[1]}" ]] || fail "kodaira and kiyose read receipt $1 differently: ${out[*]}"
	echo "${out[0]}"
}
LINK_RECEIPT=$(sql "$RENKEI_PG" "SELECT p.receipt_id FROM rk_library_patron p JOIN rk_tenant t ON t.id = p.tenant_id
	JOIN rk_identity_account a ON a.id = p.account_id WHERE t.slug = 'kodaira' AND a.username = 'kiyoko'")
expect_match "$(receipt_of "$LINK_RECEIPT")" '^EXCHANGE_KIND_PATRON_LINKED kodaira kiyose patron_link ' \
	"kiyoko's kodaira card: PATRON_LINKED, provided by kodaira to a kiyose resident"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_library_patron WHERE receipt_id IS NOT NULL")" 1 \
	"the cards at home have no receipt"
RENEW_RECEIPT=$(sql "$RENKEI_PG" "SELECT receipt_id FROM rk_library_loan WHERE id = '$PRINT'")
expect_eq "$(receipt_of "$RENEW_RECEIPT")" "EXCHANGE_KIND_LOAN_RENEWED kodaira kiyose loan $PRINT" \
	"the renewal of kodaira's book: LOAN_RENEWED"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_exchange_receipt WHERE kind = 'loan_renewed'")" 2 \
	"one receipt per renewal, none for the refused one"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_library_loan WHERE elibrary AND receipt_id IS NOT NULL")" 0 \
	"e-books lent at home have none"
lib "" SearchCatalogue '{"title": "こころ", "municipalities": ["kodaira"], "format": "WORK_FORMAT_PRINT"}'
KOKORO=$(jq -r '.results[0].work.id' <<<"$OUT")
lib "$KIYOKO" PlaceHold "{\"workId\": \"$KOKORO\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"kiyose\", \"pickupBranchId\": \"central\"}" hold-x
expect_eq "$STATUS" 200 "kiyoko holds kodaira's こころ for pickup in 清瀬"
HOLD=$(jq -r .hold.id <<<"$OUT")
expect_eq "$(receipt_of "$(jq -r .hold.receiptId <<<"$OUT")")" "EXCHANGE_KIND_HOLD_PLACED kodaira kiyose hold $HOLD" \
	"the hold answers its receipt: HOLD_PLACED"
lib "$KIYOKO" CancelHold "{\"holdId\": \"$HOLD\"}" cancel-x
expect_eq "$STATUS:$(receipt_of "$(jq -r .hold.receiptId <<<"$OUT")")" "200:EXCHANGE_KIND_HOLD_CANCELLED kodaira kiyose hold $HOLD" \
	"its cancellation: HOLD_CANCELLED"

grep -q 30561111 "$HUB_LOG" && fail "a card number is in the hub's log"
pass "no card number in the hub's log"

# --- 5. a resident whose residency the certificate (My Number card) verified --------------------
curl -s "${ADMIN[@]}" -d "{\"username\": \"kazu\", \"password\": \"$PASSWORD\", \"residency_verified\": \"certificate\"}" \
	"$HUB_URL/admin/v1/realms/kiyose/users" | jq -e '.residency_verified == "certificate"' >/dev/null ||
	fail "could not create kazu, verified by certificate"
KAZU=$(resident_token kiyose kazu)
lib "$KAZU" PlaceHold "{\"workId\": \"$KOKORO\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"kiyose\", \"pickupBranchId\": \"central\"}" hold-kazu
expect_match "$STATUS $(jq -r .hold.state <<<"$OUT")" '^200 HOLD_STATE_(WAITING|READY)$' \
	"a certificate-login resident holds at kodaira without linking a card first"
lib "$KAZU" ListMyPatronLinks '{}'
expect_eq "$(jq -c '[.links[] | [.library.slug, .method]]' <<<"$OUT")" '[["kodaira","PATRON_LINK_METHOD_CERTIFICATE"]]' \
	"linked automatically by kodaira's VerifyPatron (CERTIFICATE)"
lib "" SearchCatalogue '{"title": "坊っちゃん", "municipalities": ["kiyose"], "format": "WORK_FORMAT_EBOOK"}'
BOTCHAN=$(jq -r '[.results[] | select(.work.format == "WORK_FORMAT_EBOOK")][0].work.id // ""' <<<"$OUT")
lib "$KAZU" ElibraryCheckout "{\"workId\": \"$BOTCHAN\", \"library\": \"kiyose\"}" ebook-kazu
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_ACTIVE "and borrows kiyose's e-book without a card too"
lib "$KAZU" ListMyPatronLinks '{}'
expect_eq "$(jq -c '[.links[] | .library.slug] | sort' <<<"$OUT")" '["kiyose","kodaira"]' "now linked at both"
lib "$KENTA" PlaceHold "{\"workId\": \"$KOKORO\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"kiyose\", \"pickupBranchId\": \"central\"}" hold-kenta
expect_eq "$STATUS:$REASON" 400:LIBRARY_ERROR_PATRON_NOT_LINKED "a password-login resident still links a card first"

# --- 6. fail closed: no cross-city change the exchange log could not record ---------------------
# No TSA anchors this hub's log: with a 1 s gap (what exchange.anchor_max_gap_ms = 1000 stores
# at start) the entries above are overdue.
sql "$RENKEI_PG" "UPDATE rk_exchange_anchor_policy SET max_gap = interval '1 second'" >/dev/null
sleep 1.1
lib "$KIYOKO" PlaceHold "{\"workId\": \"$KOKORO\", \"owner\": \"kodaira\", \"pickupMunicipality\": \"kiyose\", \"pickupBranchId\": \"central\"}" hold-overdue
expect_eq "$STATUS:$REASON" 503:EXCHANGE_ANCHORING_OVERDUE "a cross-city hold while anchoring is overdue → UNAVAILABLE"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_library_hold ORDER BY created_at DESC LIMIT 1")" requested \
	"kodaira was never asked (the row stays REQUESTED)"
lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$STATUS" 200 "reads go on"
lib "$KIYOKO" ElibraryReturn "{\"loanId\": \"$(jq -r '[.loans[] | select(.elibrary)][0].id' <<<"$OUT")\"}" return-home
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_RETURNED "and changes at home"

for c in kodaira kiyose; do sim_stop "$c"; done
hub_stop
pass "the hub and the sims exit 0"
