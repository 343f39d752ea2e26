# portal_test.sh — the resident portal end to end: starts renkeid on the real PostgreSQL of
# tests/run and four renkei-adapter-sim processes (chofu, komae, kiyose, kodaira: demo tenants
# with the chofu–komae facility agreement and the Tama-north library agreement), registers and
# syncs them with renkeictl, creates each realm's portal client (public, first-party, redirect
# URI {hub}/callback), a komae and a kiyose resident as municipal IT would, then runs
# tests/e2e/portal.mjs: Debian's chromium, headless, driven by playwright-core (log in, search
# facilities across cities, hold → confirm → my bookings → cancel, languages, logout; a book
# searched across cities and reserved at kodaira for pickup in kiyose, seen in my holds,
# cancelled; a book lent to the same card at kodaira's counter (the sim's own Checkout, as the
# library's system calls it) seen in my loans and renewed, another refused while someone waits
# for it; kiyose's adapter, then kodaira's stopped mid-test; axe-core on every page; 360 px).
# Screenshots of each step are kept in build/…/artifacts/portal/ (beside the build's bin/),
# also when the test fails. The hub and the remaining sims must exit 0 on SIGTERM.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/adapter_call.sh"

[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || fail "no chromium at ${CHROMIUM:-/usr/bin/chromium} (deploy/install-deps test installs it)"

ARTIFACTS=$WORK/artifacts
KEEP=$(dirname "$RENKEI_BIN_DIR")/artifacts/portal
mkdir -p "$ARTIFACTS"
keep_artifacts() {
	rm -rf -- "$KEEP"
	mkdir -p "$KEEP"
	cp -- "$ARTIFACTS"/*.png "$KEEP"/ 2>/dev/null || true
	stop_everything
}
trap keep_artifacts EXIT

export RENKEI_PG
RENKEI_PG=$(fresh_db portal_e2e)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
export RENKEI_FACILITY_AVAILABILITY_CACHE_TTL_MS=0 # every search asks the owners live
hub_start

declare -A CODES=([chofu]=132080 [komae]=132195 [kiyose]=132217 [kodaira]=132110)
# kodaira's library lets its holds be collected in kiyose, as the Tama-north agreement says.
declare -A LIBRARY=([kodaira]='"pickup_partners": ["132217"]')
for c in chofu komae kiyose kodaira; do
	sim_start "$c" "{\"adapter\": {\"name\": \"sim-$c\"}, \"municipality\": {\"code\": \"${CODES[$c]}\", \"slug\": \"$c\"}, \"sim\": {\"facilities\": {\"count\": 6}, \"library\": {${LIBRARY[$c]:-}}}}"
	expect_ok "register $c" adapter register --tenant "$c" --name "sim-$c" --endpoint "http://127.0.0.1:$SIM_PORT"
	expect_ok "sync $c" adapter sync --tenant "$c" --name "sim-$c"
	expect_ok "portal client of $c" client create --tenant "$c" --name portal --public --first-party \
		--grant authorization_code --grant refresh_token --scope openid --scope profile \
		--redirect-uri "$HUB_URL/callback" --post-logout-redirect-uri "$HUB_URL/"
done
PASSWORD='correct horse battery staple'
RC=0
OUT=$(printf '%s\n' "$PASSWORD" | "$CTL" --hub "$HUB_URL" --json user create --tenant komae \
	--username hanako --password-stdin --display-name '狛江 花子') || RC=$?
[[ $RC == 0 ]] || fail "user create: $OUT"
OUT=$(printf '%s\n' "$PASSWORD" | "$CTL" --hub "$HUB_URL" --json user create --tenant kiyose \
	--username taro --password-stdin --display-name '清瀬 太郎') || RC=$?
[[ $RC == 0 ]] || fail "user create: $OUT"

# Every file as sent gzip-compressed inflates to the file as sent plainly.
build=$(curl -s "$HUB_URL/" | sed -n 's|.*src="/portal/\([0-9a-f]*\)/app.js".*|\1|p')
expect_match "$build" '^[0-9a-f]{16}$' "index.html names the build"
for f in index.html app.js i18n.js search.js styles.css; do
	plain=$(curl -s -H 'accept-encoding: identity' "$HUB_URL/portal/$build/$f" | sha256sum)
	packed=$(curl -s --compressed "$HUB_URL/portal/$build/$f" | sha256sum)
	expect_eq "$packed" "$plain" "$f gzip-compressed is $f"
done
expect_eq "$(http_status "$HUB_URL/portal/0000000000000000/app.js")" 404 "another build's file is not served"

clients=$(curl -s "$HUB_URL/api/v1/portal" | jq -r '[.realms[] | select(.client_id) | .slug] | sort | join(",")')
expect_eq "$clients" chofu,kiyose,kodaira,komae "/api/v1/portal names the portal client of each realm that has one"

# kodaira's counter lends taro a book on the card he links in the browser later (the sim's patron
# id follows from the card): its own system calls the library adapter directly, not the hub.
CARD=20240001
adapter_call "${SIM_PORTS[kodaira]}" VerifyPatron \
	"idempotency_key { key: \"counter-card\" } method: PATRON_LINK_METHOD_CARD_AND_PIN card_number: \"$CARD\" pin: \"${CARD: -4}\""
PATRON=$(answer_field patron_id)
[[ $GRPC_STATUS == 0 && -n $PATRON ]] || fail "kodaira's counter does not know card $CARD: $GRPC_STATUS $ANSWER"
OUT=$(curl -s -H 'content-type: application/json' -d '{"author": "夏目漱石", "municipalities": ["kodaira"], "format": "WORK_FORMAT_PRINT"}' \
	"$HUB_URL/renkei.v1.LibraryService/SearchCatalogue")
# Two books on the shelf (not 坊っちゃん, reserved in the browser): a record with one copy on the
# shelf, then another record's copy. "REFUSED" is the one whose renewal is refused later: another
# reader waits for it.
# shellcheck disable=SC2016 # jq's own variables
SHELF='[.results[] | .work.title.ja as $t | select($t != "坊っちゃん") | .availability[]
	| [.recordId, $t, ([.holdings[] | select(.status == "HOLDING_STATUS_AVAILABLE")])] ]'
read -r REFUSED_RECORD REFUSED_ITEM REFUSED_BRANCH REFUSED_TITLE < <(jq -r "$SHELF"' | map(select(.[2] | length == 1))
	| .[0] // empty | "\(.[0]) \(.[2][0].itemId) \(.[2][0].branchId) \(.[1])"' <<<"$OUT")
read -r ITEM BRANCH LOAN_TITLE < <(jq -r --arg refused "${REFUSED_TITLE:-}" "$SHELF"' | map(select(.[1] != $refused and (.[2] | length) > 0))
	| .[0] // empty | "\(.[2][0].itemId) \(.[2][0].branchId) \(.[1])"' <<<"$OUT")
[[ -n ${REFUSED_ITEM:-} && -n ${ITEM:-} ]] || fail "kodaira has no record with one copy on the shelf and another book of 夏目漱石: $OUT"
lend() { # lend TAG ITEM BRANCH TITLE: kodaira's counter lends ITEM to the card; sets LOAN_DUE
	adapter_call "${SIM_PORTS[kodaira]}" Checkout \
		"idempotency_key { key: \"counter-$1\" } patron_id: \"$PATRON\" item_id: \"$2\" branch_id: \"$3\"" "$1"
	LOAN_DUE=$(answer_field due_date)
	expect_match "$GRPC_STATUS $LOAN_DUE" '^0 [0-9]{4}-[0-9]{2}-[0-9]{2}$' "kodaira's counter lends $4 ($2) to card $CARD"
}
lend refused "$REFUSED_ITEM" "$REFUSED_BRANCH" "$REFUSED_TITLE"
adapter_call "${SIM_PORTS[kodaira]}" VerifyPatron \
	'idempotency_key { key: "counter-other-card" } method: PATRON_LINK_METHOD_CARD_AND_PIN card_number: "20245555" pin: "5555"'
OTHER=$(answer_field patron_id)
adapter_call "${SIM_PORTS[kodaira]}" PlaceHold \
	"idempotency_key { key: \"counter-hold\" } patron_id: \"$OTHER\" record_id: \"$REFUSED_RECORD\" pickup_municipality: \"132110\" pickup_branch_id: \"$REFUSED_BRANCH\""
expect_eq "$GRPC_STATUS $(answer_field state)" "0 HOLD_STATE_WAITING" "another reader waits for $REFUSED_TITLE"
lend renewable "$ITEM" "$BRANCH" "$LOAN_TITLE"

node --test-reporter=spec --test-concurrency=1 "$RENKEI_SOURCE_DIR/tests/e2e/portal.mjs" \
	"$HUB_URL" "$ARTIFACTS" hanako taro "$PASSWORD" "${SIM_PIDS[kiyose]}" "$CARD" "$LOAN_TITLE" "$LOAN_DUE" "$REFUSED_TITLE" "${SIM_PIDS[kodaira]}" ||
	fail "the portal in chromium (screenshots in $KEEP)"

for c in kiyose kodaira; do
	status=0
	wait "${SIM_PIDS[$c]}" || status=$?
	unset "SIM_PIDS[$c]"
	expect_eq "$status" 0 "sim $c exited 0 on SIGTERM"
done
hub_stop
pass "renkeid exits 0 on SIGTERM"
for c in chofu komae; do
	sim_stop "$c"
done
pass "screenshots: $(find "$ARTIFACTS" -name '*.png' | wc -l) in $KEEP"
