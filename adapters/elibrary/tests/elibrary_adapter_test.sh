# elibrary_adapter_test.sh — renkei-adapter-elibrary against a real PostgreSQL (a private
# database of tests/run), called over gRPC as the hub would (tests/lib/adapter_call.sh), with
# 清瀬市's demo configuration and a loan limit of 2:
#   - VerifyPatron: the demo card and PIN → a patron id; a wrong PIN → PATRON_REJECTED;
#   - SearchCatalogue: a Japanese title byte for byte; print asks find no e-books;
#   - 50 residents check out the one-copy title at once → exactly one loan, 49
#     NO_LICENCE_AVAILABLE; 20 at once the unlimited (読み放題) title → 20 loans;
#   - the loan limit (LOAN_LIMIT_REACHED), ALREADY_ON_LOAN, the same key → the same loan, the key
#     with another request → ALREADY_EXISTS; Renew once, then RENEWAL_REFUSED;
#   - a loan past its due time is returned by itself at that time and its licence lends again;
#     ReturnLoan; the loans outlive a restart; a bad config names its key; exit 0 on SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/adapter_call.sh"

ELIB=$RENKEI_BIN_DIR/renkei-adapter-elibrary
ELIB_PID=
trap '[[ -z $ELIB_PID ]] || kill -KILL "$ELIB_PID" 2>/dev/null; cleanup' EXIT

DB=$(fresh_db elibrary_adapter_test)
jq '.elibrary.loan_limit = 2' "$RENKEI_SOURCE_DIR/adapters/elibrary/demo/kiyose.json" >"$WORK/kiyose.json"

elib_start() {
	for _ in 1 2 3 4 5; do
		PORT=$((20000 + RANDOM % 20000))
		RENKEI_ADAPTER_PORT=$PORT RENKEI_ELIBRARY_PG=$DB "$ELIB" --config "$1" >>"$WORK/elib.log" 2>&1 &
		ELIB_PID=$!
		for _ in $(seq 1 100); do
			kill -0 "$ELIB_PID" 2>/dev/null || break
			[[ $(http_status "http://127.0.0.1:$PORT/healthz") == 200 ]] && return 0
			sleep 0.1
		done
		wait "$ELIB_PID" 2>/dev/null || true
		ELIB_PID=
		grep -q 'cannot listen' "$WORK/elib.log" || fail "the e-library adapter did not start: $(tail -n 5 "$WORK/elib.log")"
	done
	fail "no free port for the e-library adapter"
}
elib_stop() {
	kill -TERM "$ELIB_PID"
	local status=0
	wait "$ELIB_PID" || status=$?
	ELIB_PID=
	expect_eq "$status" 0 "the e-library adapter exits 0 after SIGTERM"
}
call() { adapter_call "$PORT" "$@"; }
open_loans() { sql "$DB" "SELECT count(*) FROM elibrary.loan WHERE record_id = '$1' AND returned_at IS NULL"; }

jq '.elibrary.titles[0].licence = "lifetime"' "$WORK/kiyose.json" >"$WORK/bad.json"
RENKEI_ELIBRARY_PG=$DB "$ELIB" --config "$WORK/bad.json" >"$WORK/bad.log" 2>&1 && fail "a bad licence was accepted"
grep -q 'elibrary.titles\[0\]: licence' "$WORK/bad.log" || fail "the error does not name the key: $(cat "$WORK/bad.log")"
pass "a bad licence is refused naming elibrary.titles[0]"

elib_start "$WORK/kiyose.json"
pass "renkei-adapter-elibrary answers on port $PORT"

# --- patrons and the catalogue -------------------------------------------------------------------
call VerifyPatron 'idempotency_key { key: "v1" } method: PATRON_LINK_METHOD_CARD_AND_PIN card_number: "1322179001" pin: "1234"'
PATRON=$(answer_field patron_id)
expect_match "$GRPC_STATUS $PATRON $(answer_field card_number_masked)" '^0 EP[0-9a-f]{16} \*{6}9001$' "VerifyPatron: the demo card"
call VerifyPatron 'idempotency_key { key: "v2" } method: PATRON_LINK_METHOD_CARD_AND_PIN card_number: "1322179001" pin: "9999"'
expect_eq "$GRPC_STATUS:$GRPC_REASON" 7:LIBRARY_ERROR_PATRON_REJECTED "a wrong PIN → PATRON_REJECTED"
expect_eq "$(sql "$DB" "SELECT count(*) FROM elibrary.patron WHERE pin_hash NOT LIKE '\$2a\$%' AND card_hash IS NOT NULL")" 0 \
	"PINs are stored as bcrypt hashes"

call SearchCatalogue 'title: "銀河 鉄道"'
expect_eq "$GRPC_STATUS:$(answer_field record_id):$(answer_field ja)" "0:E0002:銀河鉄道の夜" "a Japanese title search, byte for byte"
expect_match "$ANSWER" 'format: WORK_FORMAT_EBOOK' "an e-book"
call SearchCatalogue 'author: "宮沢賢治" format: WORK_FORMAT_PRINT'
expect_eq "$GRPC_STATUS:$ANSWER" "0:" "print asks find no e-books"
call SearchCatalogue 'keyword: "%"'
expect_eq "$GRPC_STATUS:$ANSWER" "0:" "a % is a character, not a wildcard"

# --- licences under concurrency --------------------------------------------------------------------
pids=()
for i in $(seq 1 50); do
	(call Checkout "idempotency_key { key: \"race-$i\" } resident { pairwise_id: \"pw-race-$i\" } record_id: \"E0001\"" "race$i"
		echo "$GRPC_STATUS:$GRPC_REASON" >"$WORK/race$i.out") &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "$(cat "$WORK"/race*.out | sort | uniq -c | awk '{print $1 " " $2}' | tr '\n' ' ')" \
	"1 0: 49 8:LIBRARY_ERROR_NO_LICENCE_AVAILABLE " "50 checkouts of the one-copy title at once: exactly one loan"
expect_eq "$(open_loans E0001)" 1 "one open loan of it in the database"
pids=()
for i in $(seq 1 20); do
	(call Checkout "idempotency_key { key: \"free-$i\" } resident { pairwise_id: \"pw-race-$i\" } record_id: \"E0002\"" "free$i"
		echo "$GRPC_STATUS" >"$WORK/free$i.out") &
	pids+=($!)
done
wait "${pids[@]}"
expect_eq "$(cat "$WORK"/free*.out | sort | uniq -c | awk '{print $1 " " $2}')" "20 0" "20 at once of the unlimited title: 20 loans"

# --- one patron's loans --------------------------------------------------------------------------
call Checkout "idempotency_key { key: \"p-1\" } patron_id: \"$PATRON\" record_id: \"E0003\""
REF=$(answer_field owner_reference)
expect_match "$GRPC_STATUS $REF $(answer_field reader_url)" \
	'^0 132217-E[0-9]{8} https://kiyose\.elibrary\.example\.jp/read/132217-E[0-9]{8}$' "Checkout: ACTIVE at once with its reader URL"
call Checkout "idempotency_key { key: \"p-1\" } patron_id: \"$PATRON\" record_id: \"E0003\""
expect_eq "$GRPC_STATUS:$(answer_field owner_reference)" "0:$REF" "the same key answers the same loan"
call Checkout "idempotency_key { key: \"p-1\" } patron_id: \"$PATRON\" record_id: \"E0005\""
expect_eq "$GRPC_STATUS:$GRPC_REASON" 6:ERROR_REASON_IDEMPOTENCY_KEY_REUSED "the key with another request → ALREADY_EXISTS"
call Checkout "idempotency_key { key: \"p-2\" } patron_id: \"$PATRON\" record_id: \"E0003\""
expect_eq "$GRPC_STATUS:$GRPC_REASON" 6:LIBRARY_ERROR_ALREADY_ON_LOAN "the same title again → ALREADY_ON_LOAN"
call Checkout "idempotency_key { key: \"p-3\" } patron_id: \"$PATRON\" record_id: \"E0005\""
expect_eq "$GRPC_STATUS" 0 "a second e-book"
call Checkout "idempotency_key { key: \"p-4\" } patron_id: \"$PATRON\" record_id: \"E0002\""
expect_eq "$GRPC_STATUS:$GRPC_REASON" 8:LIBRARY_ERROR_LOAN_LIMIT_REACHED "a third → LOAN_LIMIT_REACHED (limit 2)"
call Checkout "idempotency_key { key: \"p-5\" } patron_id: \"$PATRON\" record_id: \"nope\""
expect_match "$GRPC_STATUS $(tr -d '\r' <"$WORK/call.head" | sed -n 's/^grpc-message: //p')" '^3 record_id' "an unknown title names record_id"

call Renew "idempotency_key { key: \"r-1\" } patron_id: \"$PATRON\" owner_reference: \"$REF\""
expect_eq "$GRPC_STATUS:$(answer_field renewals)" 0:1 "Renew → renewals 1"
call Renew "idempotency_key { key: \"r-2\" } patron_id: \"$PATRON\" owner_reference: \"$REF\""
expect_eq "$GRPC_STATUS:$GRPC_REASON" 9:LIBRARY_ERROR_RENEWAL_REFUSED "a second renewal → RENEWAL_REFUSED (max 1)"
call Renew "idempotency_key { key: \"r-3\" } patron_id: \"EPnobody\" owner_reference: \"$REF\""
expect_eq "$GRPC_STATUS:$GRPC_REASON" 7:LIBRARY_ERROR_PATRON_REJECTED "another patron's loan is not theirs"

# --- automatic return at the due time ------------------------------------------------------------
WINNER=$(sql "$DB" "SELECT p.pairwise FROM elibrary.loan l JOIN elibrary.patron p USING (municipality, patron_id)
	WHERE l.record_id = 'E0001' AND l.returned_at IS NULL")
sql "$DB" "UPDATE elibrary.loan SET due_at = now() - interval '1 minute' WHERE record_id = 'E0001' AND returned_at IS NULL" >/dev/null
call ListLoans "resident { pairwise_id: \"$WINNER\" } include_returned: true"
expect_match "$(tr '\n' ' ' <<<"$ANSWER")" 'record_id: "E0001".*state: LOAN_STATE_RETURNED' \
	"a loan past its due time is RETURNED by itself"
expect_eq "$(open_loans E0001)" 0 "its licence is free"
expect_eq "$(sql "$DB" "SELECT count(*) FROM elibrary.loan WHERE record_id = 'E0001' AND returned_at = due_at")" 1 \
	"returned at its due time"
call Checkout "idempotency_key { key: \"after\" } patron_id: \"$PATRON\" record_id: \"E0001\""
expect_eq "$GRPC_STATUS:$GRPC_REASON" 8:LIBRARY_ERROR_LOAN_LIMIT_REACHED "(the patron still has two)"
call ReturnLoan "idempotency_key { key: \"ret-1\" } patron_id: \"$PATRON\" owner_reference: \"$REF\""
expect_match "$GRPC_STATUS $(answer_field state) $(answer_field returned_at)" '^0 LOAN_STATE_RETURNED 20[0-9-]+T' "ReturnLoan → RETURNED"
call Checkout "idempotency_key { key: \"after-2\" } patron_id: \"$PATRON\" record_id: \"E0001\""
expect_eq "$GRPC_STATUS" 0 "the one-copy title lends again"

elib_stop
elib_start "$WORK/kiyose.json"
call ListLoans "patron_id: \"$PATRON\""
expect_eq "$GRPC_STATUS:$(grep -c 'owner_reference' <<<"$ANSWER")" 0:2 "after a restart: the patron's two loans"
elib_stop
