# library_sru_hub_test.sh — the hub over the real SRU adapter: the five Tama-north cities
# (小平市, 東村山市, 西東京市, 清瀬市, 東久留米市) each with a real zebrasrv (Index Data's Zebra)
# serving the demo catalogue adapters/sru/zebra/setup builds and a renkei-adapter-sru with its
# demo configuration (circulation in one private PostgreSQL database), registered with the hub
# of the tenants of tenants/ (the 多摩六都 mutual library use; 調布市 outside it).
#   - SearchCatalogue by an ISBN-10 with hyphens: one work "isbn:…" merged from every city's
#     record, holdings per branch named as each city's configuration names them, a status per
#     city; by a Japanese title: the title exactly as catalogued, from several cities;
#   - a 清瀬市 resident links 小平市's demo card, holds 小平市's copy for pickup at home (清瀬
#     中央), sees it in ListMyHolds refreshed from 小平市's adapter; a 調布市 resident at 小平市 →
#     NOT_ELIGIBLE naming the rule;
#   - 清瀬市's e-library (adapters/elibrary) beside its sru adapter: the card linked at 清瀬市's
#     library lends its e-book through ElibraryCheckout, listed by ListMyLoans;
#   - 東久留米市's zebrasrv stopped: the same search answers at once without it (its status not
#     OK, the others OK).
# Every adapter must exit 0 on SIGTERM (the sanitizers report through the exit status).
# shellcheck source=tests/lib/hub.sh
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

SRU=$RENKEI_BIN_DIR/renkei-adapter-sru
CITIES=(kodaira higashimurayama nishitokyo kiyose higashikurume)
declare -A ZEBRA_PIDS=() ZEBRA_PORTS=() SRU_PIDS=() SRU_PORTS=()

stop_zebras() {
	local pid
	# zebrasrv forks a process per connection: stop its whole process group.
	for pid in "${ZEBRA_PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
	stop_everything
}
trap stop_zebras EXIT

command -v zebrasrv >/dev/null || fail "zebrasrv is missing: deploy/install-deps test installs idzebra-2.0"
"$RENKEI_SOURCE_DIR/adapters/sru/zebra/setup" "$WORK/zebra" >"$WORK/setup.log" 2>&1 ||
	fail "adapters/sru/zebra/setup: $(tail -n 5 "$WORK/setup.log")"

# zebra_start CITY: its zebrasrv on a free port (or its own again), in its own process group.
zebra_start() {
	local c=$1 port
	for _ in 1 2 3 4 5; do
		port=${ZEBRA_PORTS[$c]:-$((20000 + RANDOM % 20000))}
		setsid zebrasrv -f "$WORK/zebra/$c/yazgfs.xml" -w "$WORK/zebra/$c" -l "$WORK/zebrasrv.$c.log" \
			"tcp:127.0.0.1:$port" &
		ZEBRA_PIDS[$c]=$!
		for _ in $(seq 1 50); do
			kill -0 "${ZEBRA_PIDS[$c]}" 2>/dev/null || break
			if [[ $(http_status "http://127.0.0.1:$port/$c?version=1.1&operation=explain") == 200 ]]; then
				ZEBRA_PORTS[$c]=$port
				return 0
			fi
			sleep 0.1
		done
		kill -KILL -- "-${ZEBRA_PIDS[$c]}" 2>/dev/null || true
	done
	fail "zebrasrv of $c did not start: $(tail -n 5 "$WORK/zebrasrv.$c.log")"
}

export RENKEI_PG
RENKEI_PG=$(fresh_db library_sru_hub_test)
CIRCULATION=$(fresh_db library_sru_hub_circ)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=5000
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

for c in "${CITIES[@]}"; do
	zebra_start "$c"
	for _ in 1 2 3 4 5; do
		SRU_PORTS[$c]=$((20000 + RANDOM % 20000))
		RENKEI_ADAPTER_PORT=${SRU_PORTS[$c]} RENKEI_SRU_PORT=${ZEBRA_PORTS[$c]} RENKEI_SRU_POSTGRES=$CIRCULATION \
			"$SRU" --config "$RENKEI_SOURCE_DIR/adapters/sru/demo/$c.json" >>"$WORK/sru.$c.log" 2>&1 &
		SRU_PIDS[$c]=$!
		for _ in $(seq 1 100); do
			kill -0 "${SRU_PIDS[$c]}" 2>/dev/null || break
			[[ $(http_status "http://127.0.0.1:${SRU_PORTS[$c]}/healthz") == 200 ]] && break 2
			sleep 0.1
		done
		wait "${SRU_PIDS[$c]}" 2>/dev/null || true
		grep -q 'cannot listen' "$WORK/sru.$c.log" || fail "the sru adapter of $c did not start: $(tail -n 5 "$WORK/sru.$c.log")"
	done
	EXTRA_PIDS+=("${SRU_PIDS[$c]}")
	expect_ok "register $c's sru adapter" adapter register --tenant "$c" --name "sru-$c" \
		--endpoint "http://127.0.0.1:${SRU_PORTS[$c]}" --capability library_catalogue \
		--capability library_patrons --capability library_holds --capability library_loans
	expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "$c's sru adapter is ACTIVE"
done

# 清瀬市's e-library too (adapters/elibrary, its demo titles), its state in its own database.
ELIBRARY_DB=$(fresh_db library_sru_hub_elib)
for _ in 1 2 3 4 5; do
	ELIB_PORT=$((20000 + RANDOM % 20000))
	RENKEI_ADAPTER_PORT=$ELIB_PORT RENKEI_ELIBRARY_PG=$ELIBRARY_DB \
		"$RENKEI_BIN_DIR/renkei-adapter-elibrary" --config "$RENKEI_SOURCE_DIR/adapters/elibrary/demo/kiyose.json" \
		>>"$WORK/elibrary.log" 2>&1 &
	ELIB_PID=$!
	for _ in $(seq 1 100); do
		kill -0 "$ELIB_PID" 2>/dev/null || break
		[[ $(http_status "http://127.0.0.1:$ELIB_PORT/healthz") == 200 ]] && break 2
		sleep 0.1
	done
	wait "$ELIB_PID" 2>/dev/null || true
	grep -q 'cannot listen' "$WORK/elibrary.log" || fail "the e-library adapter did not start: $(tail -n 5 "$WORK/elibrary.log")"
done
EXTRA_PIDS+=("$ELIB_PID")
expect_ok "register kiyose's e-library" adapter register --tenant kiyose --name elibrary-kiyose \
	--endpoint "http://127.0.0.1:$ELIB_PORT" --capability library_catalogue --capability library_patrons \
	--capability library_loans --capability elibrary
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "kiyose's e-library adapter is ACTIVE"

lib() { call_service LibraryService "$@"; }
# one per adapter asked (清瀬市 has two: its library and its e-library), here per city
statuses() { jq -c '[.statuses[] | [.municipality.slug, .status]] | unique' <<<"$OUT"; }
ALL_OK='[["higashikurume","ANSWER_STATUS_OK"],["higashimurayama","ANSWER_STATUS_OK"],["kiyose","ANSWER_STATUS_OK"],["kodaira","ANSWER_STATUS_OK"],["nishitokyo","ANSWER_STATUS_OK"]]'

# --- 1. one search, five Zebra servers ----------------------------------------------------------
# 9784101010137 (夏目漱石 こころ, demo/japanese.xml) as an ISBN-10 with hyphens.
lib "" SearchCatalogue '{"isbn": "4-10-101013-7", "municipalities": ["kodaira", "higashimurayama", "nishitokyo", "kiyose", "higashikurume"]}'
expect_eq "$STATUS:$(statuses)" "200:$ALL_OK" "an ISBN search asks every city's zebrasrv, all OK"
expect_eq "$(jq -c '[.results[].work.id]' <<<"$OUT")" '["isbn:9784101010137"]' "one work, by its ISBN-13"
CITIES_HOLDING=$(jq '.results[0].availability | length' <<<"$OUT")
[[ $CITIES_HOLDING -ge 3 ]] || fail "こころ is held in only $CITIES_HOLDING cities: $OUT"
pass "merged from $CITIES_HOLDING cities' records"
expect_eq "$(jq -r '.results[0].work.title.ja + " / " + .results[0].work.authors[0].name.ja' <<<"$OUT")" \
	"こころ / 夏目, 漱石" "the Japanese title and author as catalogued"
for c in "${CITIES[@]}"; do
	want=$(jq -c '[.sru.branches[].id] | sort' "$RENKEI_SOURCE_DIR/adapters/sru/demo/$c.json")
	got=$(jq -c --arg c "$c" '[.results[0].availability[] | select(.library.slug == $c) | .holdings[].branchId] | unique
		| if length == 0 then [] else . end' <<<"$OUT")
	jq -e --argjson w "$want" --argjson g "$got" '$g - $w == []' <<<'null' >/dev/null ||
		fail "$c's holdings name branches $got, not among $want"
done
pass "each city's holdings are at its own branches"
expect_eq "$(jq '[.results[0].availability[] | (.availableCount // 0) == ([.holdings[] | select(.status == "HOLDING_STATUS_AVAILABLE")] | length)] | all' <<<"$OUT")" \
	true "each city's available count matches its holdings"

lib "" SearchCatalogue '{"title": "銀河鉄道"}'
expect_eq "$STATUS:$(statuses)" "200:$ALL_OK" "a Japanese title search across the five cities"
expect_eq "$(jq -c '[.results[] | select(.work.title.ja == "銀河鉄道の夜") | .work.format] | sort' <<<"$OUT")" \
	'["WORK_FORMAT_EBOOK","WORK_FORMAT_PRINT"]' "銀河鉄道の夜, its title byte for byte: one printed work, and 清瀬市's e-book apart"
expect_match "$(jq -r '[.results[] | select(.work.title.ja == "銀河鉄道の夜" and .work.format == "WORK_FORMAT_PRINT")][0].availability | length' <<<"$OUT")" '^[2-5]$' \
	"the printed one held in several cities"

# --- 2. a 清瀬市 resident holds 小平市's copy for pickup at home ------------------------------------
resident_add kiyose kiyoko
resident_add chofu chika
KIYOKO=$(resident_token kiyose kiyoko)
CHIKA=$(resident_token chofu chika)
lib "$KIYOKO" LinkPatron '{"library": "kodaira", "cardNumber": "1321100001", "pin": "1234"}' link-kodaira
expect_eq "$STATUS:$(jq -r .link.cardNumberMasked <<<"$OUT")" "200:******0001" "kiyoko links 小平市's demo card"
lib "$KIYOKO" ListPickupBranches '{"owner": "kodaira"}'
expect_eq "$(jq -c '[.branches[] | .municipality.slug + "/" + .branchId] | .[:3]' <<<"$OUT")" \
	'["kiyose/chuo","kiyose/ekimae","kiyose/shimojuku"]' "清瀬's branches first for 小平市's items"
lib "$KIYOKO" PlaceHold '{"workId": "isbn:9784101010137", "owner": "kodaira", "pickupMunicipality": "kiyose", "pickupBranchId": "chuo"}' hold-1
expect_match "$STATUS $(jq -r '.hold.state + " " + .hold.owner.slug + " " + .hold.pickupBranch.municipality.slug + "/" + .hold.pickupBranch.branchId' <<<"$OUT")" \
	'^200 HOLD_STATE_(WAITING|READY) kodaira kiyose/chuo$' "PlaceHold: 小平市's copy, collected at 清瀬中央"
expect_eq "$(jq -r .hold.pickupBranch.name.ja <<<"$OUT")" "$(jq -r '.sru.branches[0].name_ja' "$RENKEI_SOURCE_DIR/adapters/sru/demo/kiyose.json")" \
	"the pickup branch named as 清瀬市's adapter names it"
HOLD=$(jq -r .hold.id <<<"$OUT")
expect_eq "$(sql "$CIRCULATION" "SELECT count(*) FROM sru.hold WHERE hold_key = '$HOLD' AND pickup_branch = 'chuo'")" 1 \
	"小平市's circulation holds it under the hub's hold id"
lib "$KIYOKO" ListMyHolds '{}'
expect_eq "$STATUS:$(jq -c '[.holds[].id]' <<<"$OUT"):$(statuses)" "200:[\"$HOLD\"]:[[\"kodaira\",\"ANSWER_STATUS_OK\"]]" \
	"ListMyHolds: the hold, refreshed from 小平市's adapter"
lib "$CHIKA" PlaceHold '{"workId": "isbn:9784101010137", "owner": "kodaira", "pickupBranchId": "chuo"}' hold-chika
expect_eq "$STATUS:$REASON" 403:LIBRARY_ERROR_NOT_ELIGIBLE "a 調布市 resident at 小平市 → NOT_ELIGIBLE"
expect_match "$(jq -r .message <<<"$OUT")" 'no agreement of Kodaira City lets residents of Chofu City' "naming the rule"

# --- 3. 清瀬市's e-library under the same card ------------------------------------------------------
lib "$KIYOKO" LinkPatron '{"library": "kiyose", "cardNumber": "1322170001", "pin": "1234"}' link-kiyose
expect_eq "$STATUS" 200 "kiyoko links her 清瀬市 library card (verified by the sru adapter)"
lib "" SearchCatalogue '{"title": "銀河鉄道", "municipalities": ["kiyose"], "format": "WORK_FORMAT_EBOOK"}'
EBOOK=$(jq -r '[.results[] | select(.work.format == "WORK_FORMAT_EBOOK")][0].work.id // ""' <<<"$OUT")
expect_match "$EBOOK" '^tay:' "清瀬市's e-book of 銀河鉄道の夜 (no ISBN: grouped by title, author, year)"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$EBOOK\", \"library\": \"kiyose\"}" ebook-1
expect_match "$STATUS $(jq -r '.loan.state + " " + .loan.readerUrl' <<<"$OUT")" \
	'^200 LOAN_STATE_ACTIVE https://kiyose\.elibrary\.example\.jp/read/132217-E[0-9]{8}$' \
	"ElibraryCheckout through the hub: lent at once with its reader URL"
lib "$KIYOKO" ListMyLoans '{}'
expect_eq "$STATUS:$(jq -c '[.loans[] | [.owner.slug, .elibrary, .work.title.ja]]' <<<"$OUT")" \
	'200:[["kiyose",true,"銀河鉄道の夜"]]' "ListMyLoans: the e-book, found by the e-library under the same card"

# --- 4. one city's server stops ------------------------------------------------------------------
kill -KILL -- "-${ZEBRA_PIDS[higashikurume]}"
wait "${ZEBRA_PIDS[higashikurume]}" 2>/dev/null || true
unset 'ZEBRA_PIDS[higashikurume]'
start=$(date +%s%N)
lib "" SearchCatalogue '{"isbn": "9784101010137"}'
took=$((($(date +%s%N) - start) / 1000000))
expect_eq "$STATUS:$(jq -r '[.statuses[] | select(.municipality.slug != "higashikurume") | .status] | unique | join(",")' <<<"$OUT")" \
	200:ANSWER_STATUS_OK "東久留米市's server stopped: the others answer"
expect_match "$(jq -r '.statuses[] | select(.municipality.slug == "higashikurume") | .status' <<<"$OUT")" \
	'^ANSWER_STATUS_(ERROR|UNAVAILABLE)$' "東久留米市 has its own status"
expect_eq "$(jq -c '[.results[0].availability[].library.slug] | index("higashikurume")' <<<"$OUT")" null \
	"and no availability"
[[ $took -lt 2000 ]] || fail "the partial answer took $took ms"
pass "at once ($took ms)"

kill -TERM "$ELIB_PID"
status=0
wait "$ELIB_PID" || status=$?
expect_eq "$status" 0 "the e-library adapter exits 0 after SIGTERM"
for c in "${CITIES[@]}"; do
	kill -TERM "${SRU_PIDS[$c]}"
	status=0
	wait "${SRU_PIDS[$c]}" || status=$?
	expect_eq "$status" 0 "$c's sru adapter exits 0 after SIGTERM"
done
EXTRA_PIDS=()
hub_stop
pass "the hub exits 0"
