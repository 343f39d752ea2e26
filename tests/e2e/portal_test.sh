# portal_test.sh — the resident portal end to end: starts renkeid on the real PostgreSQL of
# tests/run and four renkei-adapter-sim processes (chofu, komae, kiyose, kodaira: demo tenants
# with the chofu–komae facility agreement and the Tama-north library agreement), registers and
# syncs them with renkeictl, creates each realm's portal client (public, first-party, redirect
# URI {hub}/callback), a komae and a kiyose resident as municipal IT would, then runs
# tests/e2e/portal.mjs: Debian's chromium, headless, driven by playwright-core (log in, search
# facilities across cities, hold → confirm → my bookings → cancel, languages, logout; a book
# searched across cities and reserved at kodaira for pickup in kiyose, seen in my holds,
# cancelled; a book lent to the same card at kodaira's counter (the sim's own Checkout, as the
# library's system calls it) seen in my loans and renewed; kiyose's adapter stopped mid-test;
# axe-core on every page; 360 px).
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
read -r ITEM BRANCH LOAN_TITLE < <(jq -r '[.results[] | .work.title.ja as $t | select($t != "坊っちゃん")
	| .availability[].holdings[] | select(.status == "HOLDING_STATUS_AVAILABLE") | "\(.itemId) \(.branchId) \($t)"][0] // ""' <<<"$OUT")
[[ -n $ITEM ]] || fail "no book of 夏目漱石 but 坊っちゃん on kodaira's shelves: $OUT"
adapter_call "${SIM_PORTS[kodaira]}" Checkout \
	"idempotency_key { key: \"counter-loan\" } patron_id: \"$PATRON\" item_id: \"$ITEM\" branch_id: \"$BRANCH\""
LOAN_DUE=$(answer_field due_date)
expect_match "$GRPC_STATUS $LOAN_DUE" '^0 [0-9]{4}-[0-9]{2}-[0-9]{2}$' "kodaira's counter lends $LOAN_TITLE to card $CARD"

node --test-reporter=spec --test-concurrency=1 "$RENKEI_SOURCE_DIR/tests/e2e/portal.mjs" \
	"$HUB_URL" "$ARTIFACTS" hanako taro "$PASSWORD" "${SIM_PIDS[kiyose]}" "$CARD" "$LOAN_TITLE" "$LOAN_DUE" ||
	fail "the portal in chromium (screenshots in $KEEP)"

status=0
wait "${SIM_PIDS[kiyose]}" || status=$?
unset "SIM_PIDS[kiyose]"
expect_eq "$status" 0 "sim kiyose exited 0 on SIGTERM"
hub_stop
pass "renkeid exits 0 on SIGTERM"
for c in chofu komae kodaira; do
	sim_stop "$c"
done
pass "screenshots: $(find "$ARTIFACTS" -name '*.png' | wc -l) in $KEEP"
