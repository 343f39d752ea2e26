# facility_availability_test.sh — FacilityService.GetAvailability end to end: renkeid on the real
# PostgreSQL of tests/run and four renkei-adapter-sim processes (chofu, komae, kiyose, itabashi),
# registered with renkeictl and synced, then restarted with injected faults. Over Connect JSON
# with curl (connect-timeout-ms is the caller's deadline), measured with curl's own clock:
#   - every city answers: slots under hub ids, a status per city, available_only, a second call
#     served from the cache;
#   - komae hangs (3 s latency): komae TIMEOUT while the others are OK, and the answer arrives
#     within the 1 s deadline (and within facility.availability_timeout_ms without a deadline);
#     its cached window is served STALE, marked;
#   - kiyose fails every call (error_rate 1.0): ERROR, then after 3 failures its breaker opens
#     (UNAVAILABLE, renkei_adapter_breaker_state 1), and once it is healthy again the probe after
#     the cool-down closes it (OK, state 0);
#   - itabashi goes down (outage file): STALE from the cache with the first answer's as_of, and
#     OK again once it is back;
#   - SearchFacilities with free_within while komae hangs: chofu's free facilities, soonest first,
#     each free at its next_free_slot_start, komae TIMEOUT, within the deadline;
#   - a disabled adapter is UNAVAILABLE; bad input names the field (with an ErrorDetail).
# The hub and every sim must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

declare -A SIM_CONFIGS=()

# sim_restart NAME FAULTS_JSON: the same city on the same port, now with these sim.faults.
sim_restart() {
	sim_stop "$1"
	sim_start "$1" "$(jq -c --argjson f "$2" '.sim.faults = $f' <<<"${SIM_CONFIGS[$1]}")" "${SIM_PORTS[$1]}"
}

# avail DEADLINE_MS IDS WINDOW [EXTRA_JSON]: GetAvailability over Connect JSON without
# credentials (DEADLINE_MS 0 = no deadline; IDS comma-separated; WINDOW "start end"). Sets OUT,
# STATUS (HTTP) and TOOK (seconds, from curl).
avail() {
	local deadline=$1 ids=$2 window=$3 extra=${4:-'{}'} body
	body=$(jq -cn --arg ids "$ids" --arg w "$window" --argjson x "$extra" \
		'{facilityIds: ($ids | split(",")), window: {start: ($w | split(" ")[0]), end: ($w | split(" ")[1])}} + $x')
	timed_call GetAvailability "$deadline" "$body"
}

# search DEADLINE_MS JSON: SearchFacilities the same way.
search() { timed_call SearchFacilities "$1" "$2"; }

# timed_call METHOD DEADLINE_MS JSON: FacilityService over Connect JSON without credentials;
# sets OUT, STATUS and TOOK.
timed_call() {
	local -a headers=(-H 'content-type: application/json')
	[[ $2 == 0 ]] || headers+=(-H "connect-timeout-ms: $2")
	local result last
	result=$(curl -s --max-time 10 -w '\n%{http_code} %{time_total}' "${headers[@]}" \
		--data-binary "$3" "$HUB_URL/renkei.v1.FacilityService/$1") || fail "$1: curl failed"
	last=${result##*$'\n'}
	STATUS=${last% *}
	TOOK=${last#* }
	OUT=${result%$'\n'*}
}

expect_answer() { # expect_answer WHAT: HTTP 200
	[[ $STATUS == 200 ]] || fail "$1: HTTP $STATUS: $OUT"
}

# city SLUG FIELD: a field of that city's MunicipalityStatus in OUT.
city() { jq -r --arg s "$1" --arg f "$2" '[.statuses[] | select(.municipality.slug == $s)][0][$f] // ""' <<<"$OUT"; }

# ids SIM N: hub ids of N facilities synced from that sim, comma-separated.
ids() {
	sql "$RENKEI_PG" "SELECT string_agg(id::text, ',') FROM (SELECT f.id FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = '$1' ORDER BY f.id LIMIT $2) x"
}

metric() { # metric NAME_WITH_LABELS: its value on /metrics ("" when absent)
	curl -s --max-time 5 "$HUB_URL/metrics" | awk -v m="$1" '$1 == m {print $2}'
}

under() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a < b)}'; } # under A B: A < B

day() { date -u -d "+$1 day" +%Y-%m-%dT00:00:00Z; }
window() { echo "$(day "$1") $(day $(($1 + 1)))"; }

# --- the hub and four cities ---------------------------------------------------------------------
export RENKEI_PG
RENKEI_PG=$(fresh_db facility_availability_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000 # syncs in this test are asked for
export RENKEI_FACILITY_AVAILABILITY_TIMEOUT_MS=1500
export RENKEI_FACILITY_AVAILABILITY_MARGIN_MS=50
export RENKEI_FACILITY_AVAILABILITY_CACHE_TTL_MS=3000 # slack for a busy machine between two calls
export RENKEI_FACILITY_AVAILABILITY_STALE_MS=600000
export RENKEI_FACILITY_BREAKER_FAILURES=3
export RENKEI_FACILITY_BREAKER_OPEN_MS=2000
hub_start

declare -A CODES=([chofu]=132080 [komae]=132195 [kiyose]=132217 [itabashi]=131199)
for c in chofu komae kiyose itabashi; do
	SIM_CONFIGS[$c]="{\"adapter\": {\"name\": \"sim-$c\"}, \"municipality\": {\"code\": \"${CODES[$c]}\", \"slug\": \"$c\"}, \"sim\": {\"facilities\": {\"count\": 6}, \"faults\": {\"outage_file\": \"$WORK/$c.down\"}}}"
	sim_start "$c" "${SIM_CONFIGS[$c]}"
	expect_ok "register $c" adapter register --tenant "$c" --name "sim-$c" \
		--endpoint "http://127.0.0.1:${SIM_PORTS[$c]}" --capability facility_catalogue \
		--capability facility_availability
	expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "$c's sim is ACTIVE"
	expect_ok "sync $c" adapter sync --tenant "$c" --name "sim-$c"
done
CHOFU=$(ids sim-chofu 3)
KOMAE=$(ids sim-komae 2)
KIYOSE=$(ids sim-kiyose 2)
ITABASHI=$(ids sim-itabashi 2)
ALL="$CHOFU,$KOMAE,$KIYOSE,$ITABASHI"

# --- 1. every city answers ---------------------------------------------------------------------
avail 2000 "$ALL" "$(window 1)"
expect_answer "every city"
expect_eq "$(jq -c '[.statuses[] | [.municipality.slug, .status]]' <<<"$OUT")" \
	'[["chofu","ANSWER_STATUS_OK"],["komae","ANSWER_STATUS_OK"],["kiyose","ANSWER_STATUS_OK"],["itabashi","ANSWER_STATUS_OK"]]' \
	"a status per city, in the order asked, all OK"
expect_eq "$(jq -r '[.facilities[].facilityId] | join(",")' <<<"$OUT")" "$ALL" \
	"every facility answered, in the order asked, under its hub id"
expect_eq "$(jq -r '[.facilities[] | (.slots | length) > 0] | all' <<<"$OUT")" true "every facility has slots"
expect_eq "$(jq -r '[.facilities[] | .facilityId as $id | .slots[] | .facilityId == $id] | all' <<<"$OUT")" true \
	"slots carry the hub id, not the owner's"
expect_eq "$(jq -r '[.facilities[] | [.slots[].time.start] | . == sort] | all' <<<"$OUT")" true "slots in time order"
expect_eq "$(jq -r '[.facilities[] | .owner.code] | unique | sort | join(",")' <<<"$OUT")" \
	"131199,132080,132195,132217" "each facility names its owner"
expect_eq "$(jq -r '[.statuses[] | .resultCount] | join(",")' <<<"$OUT")" "3,2,2,2" "result counts per city"
expect_match "$(city chofu asOf)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "as_of is RFC 3339 UTC"
echo "# every city live: ${TOOK}s"

avail 2000 "$ALL" "$(window 1)" '{"availableOnly": true}'
expect_answer "available_only"
expect_eq "$(jq -r '[.facilities[].slots[]?.status] | unique | join(",")' <<<"$OUT")" SLOT_STATUS_AVAILABLE \
	"available_only: only SLOT_STATUS_AVAILABLE slots"
expect_eq "$(jq -r '[.statuses[] | .status] | unique | join(",")' <<<"$OUT")" ANSWER_STATUS_OK \
	"available_only: still OK everywhere"
expect_eq "$(jq -r '[.statuses[] | .message] | unique | join(",")' <<<"$OUT")" "from the hub's cache" \
	"a second call within the TTL is served from the cache"
expect_eq "$(jq -r '[.statuses[] | .latencyMs // 0] | add' <<<"$OUT")" 0 "…without asking anyone (latency 0)"

# A facility the catalogue still lists but the owner no longer knows: OK, and said so.
ghost=$(sql "$RENKEI_PG" "INSERT INTO rk_facility (tenant_id, adapter_id, owner_facility_id, body) SELECT tenant_id, id, 'gone-at-the-owner', '{}' FROM rk_adapter WHERE name = 'sim-chofu' RETURNING id" | sed -n 1p)
avail 2000 "${CHOFU%%,*},$ghost" "$(window 1)"
expect_eq "$(city chofu status):$(city chofu resultCount):$(jq -r '[.facilities[].facilityId] | join(",")' <<<"$OUT")" \
	"ANSWER_STATUS_OK:1:${CHOFU%%,*}" "a facility unknown at the owner is left out"
expect_match "$(city chofu message)" '^the owner did not answer for 1 of the 2 facilities' "…and the status says so"
sql "$RENKEI_PG" "DELETE FROM rk_facility WHERE id = $ghost" >/dev/null

# Near a point with free_within, the hub ranks nearest first without counting every match (its
# own statement); the candidates keep the order of a plain search by distance.
NEAR='"near": {"latitude": 35.66, "longitude": 139.56}'
search 2000 "{$NEAR, \"sort\": \"FACILITY_SORT_DISTANCE\", \"page\": {\"pageSize\": 50}}"
BY_DISTANCE=$(jq -c '[.results[].facility.id]' <<<"$OUT")
read -r W1 W2 <<<"$(window 1)"
search 2000 "{$NEAR, \"freeWithin\": {\"start\": \"$W1\", \"end\": \"$W2\"}, \"page\": {\"pageSize\": 50}}"
expect_answer "a free-slot search near a point"
(($(jq '.results | length' <<<"$OUT") > 0)) || fail "no free facility near the point: $OUT"
expect_eq "$(jq -r '[.results[].distanceMeters // 0] | . == sort' <<<"$OUT")" true "free near a point: nearest first"
expect_eq "$(jq --argjson all "$BY_DISTANCE" '[.results[].facility.id] as $free | [$all[] | select(. as $id | $free | index($id))] == $free' <<<"$OUT")" \
	true "…in the order of the search by distance"

# --- 2. one owner hangs: TIMEOUT for it, the rest on time ----------------------------------------
sim_restart komae '{"latency": {"distribution": "fixed", "fixed_ms": 3000}}'
avail 1000 "$ALL" "$(window 2)"
expect_answer "komae hangs"
expect_eq "$(city komae status)" ANSWER_STATUS_TIMEOUT "komae: TIMEOUT"
expect_match "$(city komae message)" '^no answer within 9[0-9]{2} ms$' "komae: the message says how long it had"
expect_eq "$(city chofu status):$(city kiyose status):$(city itabashi status)" \
	ANSWER_STATUS_OK:ANSWER_STATUS_OK:ANSWER_STATUS_OK "the other cities are OK"
expect_eq "$(jq -r '[.facilities[] | .owner.slug] | unique | join(",")' <<<"$OUT")" "chofu,itabashi,kiyose" \
	"nothing of komae is included"
under "$TOOK" 1.0 || fail "the answer took ${TOOK}s, past the 1 s deadline"
pass "answered within the caller's deadline of 1 s although komae hangs (${TOOK}s)"
echo "# one owner hanging, deadline 1000 ms: answered in ${TOOK}s"

# A free-slot search over chofu and komae while komae hangs: chofu's free facilities, soonest
# first, komae TIMEOUT, within the deadline. A 300 ms deadline leaves komae under 250 ms, which
# its breaker does not count (the breaker checks below stay as they are).
read -r W4 W5 <<<"$(window 4)"
search 300 "{\"municipalities\": [\"chofu\", \"komae\"], \"freeWithin\": {\"start\": \"$W4\", \"end\": \"$W5\"},
	\"minFreeMinutes\": 60, \"sort\": \"FACILITY_SORT_SOONEST\", \"page\": {\"pageSize\": 50}}"
expect_answer "a free-slot search with komae hanging"
expect_eq "$(city komae status):$(city chofu status)" ANSWER_STATUS_TIMEOUT:ANSWER_STATUS_OK \
	"free-slot search: komae TIMEOUT, chofu OK"
expect_eq "$(jq -r '[.results[].facility.owner.slug] | unique | join(",")' <<<"$OUT")" chofu \
	"only chofu's facilities, which were checked, are listed"
expect_eq "$(jq --arg a "$W4" --arg b "$W5" '[.results[].nextFreeSlotStart | select(. >= $a and . < $b)] | length' <<<"$OUT")" \
	"$(jq '.results | length' <<<"$OUT")" "every hit has its next free start inside free_within"
expect_eq "$(jq '[.results[].nextFreeSlotStart] | . == sort' <<<"$OUT")" true "FACILITY_SORT_SOONEST orders them"
(($(jq '.results | length' <<<"$OUT") > 0)) || fail "no free chofu facility found: $OUT"
FIRST=$(jq -c '.results[0] | {id: .facility.id, start: .nextFreeSlotStart}' <<<"$OUT")
under "$TOOK" 0.4 || fail "the search took ${TOOK}s, past the 300 ms deadline"
pass "the free-slot search answered within the deadline (${TOOK}s)"
avail 0 "$(jq -r .id <<<"$FIRST")" "$W4 $W5" '{"availableOnly": true}'
expect_eq "$(jq -r --arg s "$(jq -r .start <<<"$FIRST")" '[.facilities[0].slots[] | select(.time.start == $s)] | length' <<<"$OUT")" 1 \
	"the first hit's next free slot is AVAILABLE in GetAvailability"
search 0 '{"minFreeMinutes": 60}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 min_free_minutes: needs free_within' "min_free_minutes alone names the field"
search 0 "{\"freeWithin\": {\"start\": \"$W5\", \"end\": \"$W4\"}}"
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 free_within.end: must be after free_within.start' "a reversed free_within names the field"
search 0 '{"sort": "FACILITY_SORT_SOONEST"}'
expect_match "$STATUS $(jq -r .message <<<"$OUT")" '^400 sort: FACILITY_SORT_SOONEST needs free_within' "SOONEST needs free_within"

avail 0 "$KOMAE,$CHOFU" "$(window 3)"
expect_answer "komae hangs, no deadline"
expect_eq "$(city komae status):$(city chofu status)" ANSWER_STATUS_TIMEOUT:ANSWER_STATUS_OK \
	"without a deadline: komae TIMEOUT, chofu OK"
under "$TOOK" 1.75 || fail "the answer took ${TOOK}s, past facility.availability_timeout_ms (1.5 s)"
pass "without a deadline the answer waits facility.availability_timeout_ms at most (${TOOK}s)"

sleep 3.1 # window 1's answers are past the TTL: komae must be asked, and fails
avail 1000 "$KOMAE,$CHOFU" "$(window 1)"
expect_answer "komae hangs, window cached"
expect_eq "$(city komae status)" ANSWER_STATUS_STALE "komae: STALE from the cache"
expect_match "$(city komae message)" '^no answer within .*; 2 of 2 facilities from the hub.s cache$' \
	"komae: the message says why and how much is cached"
expect_eq "$(jq -r '[.facilities[] | select(.owner.slug == "komae") | .status] | unique | join(",")' <<<"$OUT")" \
	ANSWER_STATUS_STALE "komae's facilities are marked STALE"
expect_eq "$(jq -r '[.facilities[] | select(.owner.slug == "komae") | .slots | length > 0] | all' <<<"$OUT")" true \
	"komae's cached slots are served"
sim_restart komae '{}'

# --- 3. an owner that errors: ERROR, then its breaker opens, then recovers ----------------------
expect_eq "$(metric 'renkei_adapter_breaker_state{tenant="kiyose",adapter="sim-kiyose"}')" 0 \
	"kiyose's breaker is closed"
sim_restart kiyose '{"error_rate": 1.0}'
for i in 1 2 3; do
	avail 2000 "$KIYOSE,$CHOFU" "$(window 4)"
	expect_answer "kiyose errs ($i)"
	expect_eq "$(city kiyose status):$(city chofu status)" ANSWER_STATUS_ERROR:ANSWER_STATUS_OK \
		"kiyose fails (call $i): ERROR, chofu OK"
done
expect_match "$(city kiyose message)" '^GetAvailability: unavailable: ' "the error says what the adapter answered"
avail 2000 "$KIYOSE,$CHOFU" "$(window 4)"
expect_eq "$(city kiyose status)" ANSWER_STATUS_UNAVAILABLE "after 3 failures the breaker is open: UNAVAILABLE"
expect_match "$(city kiyose message)" '^circuit breaker open' "the message says the breaker is open"
expect_eq "$(city kiyose latencyMs)" "" "kiyose was not asked"
expect_eq "$(metric 'renkei_adapter_breaker_state{tenant="kiyose",adapter="sim-kiyose"}')" 1 \
	"renkei_adapter_breaker_state says open"
expect_eq "$(metric 'renkei_adapter_breaker_opened_total{tenant="kiyose",adapter="sim-kiyose"}')" 1 \
	"renkei_adapter_breaker_opened_total counts it"
grep -q '"msg":"adapter circuit breaker opened".*"adapter":"sim-kiyose"' "$HUB_LOG" ||
	fail "the opening is not logged"
sim_restart kiyose '{}'
avail 2000 "$KIYOSE" "$(window 4)"
expect_eq "$(city kiyose status)" ANSWER_STATUS_UNAVAILABLE "healthy again, but still in the cool-down: UNAVAILABLE"
sleep 2.1
avail 2000 "$KIYOSE,$CHOFU" "$(window 4)"
expect_eq "$(city kiyose status):$(city chofu status)" ANSWER_STATUS_OK:ANSWER_STATUS_OK \
	"after the cool-down the probe succeeds: OK"
expect_eq "$(metric 'renkei_adapter_breaker_state{tenant="kiyose",adapter="sim-kiyose"}')" 0 \
	"renkei_adapter_breaker_state says closed again"

# --- 4. an owner goes down: STALE from the cache, marked; then back --------------------------------
avail 2000 "$ITABASHI" "$(window 5)"
expect_eq "$(city itabashi status)" ANSWER_STATUS_OK "itabashi up: OK"
first_as_of=$(city itabashi asOf)
first_slots=$(jq -c '[.facilities[].slots]' <<<"$OUT")
touch "$WORK/itabashi.down"
sleep 3.1
avail 2000 "$ITABASHI,$CHOFU" "$(window 5)"
expect_answer "itabashi down"
expect_eq "$(city itabashi status):$(city chofu status)" ANSWER_STATUS_STALE:ANSWER_STATUS_OK \
	"itabashi down: STALE from the cache, chofu OK"
expect_match "$(city itabashi message)" '^GetAvailability: unavailable: .*; 2 of 2 facilities from the hub.s cache$' \
	"the message says the owner failed and the answer is cached"
expect_eq "$(city itabashi asOf)" "$first_as_of" "as_of is when itabashi last answered"
expect_eq "$(jq -c '[.facilities[] | select(.owner.slug == "itabashi") | .slots]' <<<"$OUT")" "$first_slots" \
	"the cached slots are the ones itabashi gave"
expect_eq "$(jq -r '[.facilities[] | select(.owner.slug == "itabashi") | .status] | unique | join(",")' <<<"$OUT")" \
	ANSWER_STATUS_STALE "itabashi's facilities are marked STALE"
rm "$WORK/itabashi.down"
avail 2000 "$ITABASHI" "$(window 5)"
expect_eq "$(city itabashi status)" ANSWER_STATUS_OK "itabashi back: OK"

# --- 5. metrics ---------------------------------------------------------------------------------
for outcome in ok cached timeout error unavailable stale; do
	value=$(metric "renkei_availability_calls_total{outcome=\"$outcome\"}")
	[[ $value =~ ^[0-9]+$ && $value -ge 1 ]] || fail "renkei_availability_calls_total{outcome=\"$outcome\"} is '$value'"
done
pass "renkei_availability_calls_total counts every outcome"
expect_match "$(metric renkei_availability_cache_entries)" '^[1-9][0-9]*$' "the cache's entries are reported"

# --- 6. bad input names the field; a disabled adapter is UNAVAILABLE ------------------------------
W=$(window 1)
expect_invalid() { # expect_invalid IDS WINDOW FIELD_REGEX WHAT
	avail 2000 "$1" "$2"
	expect_eq "$STATUS:$(jq -r .code <<<"$OUT")" 400:invalid_argument "$4: INVALID_ARGUMENT"
	expect_match "$(jq -r .message <<<"$OUT")" "^$3: " "$4: the message names the field"
	expect_match "$(jq -r '.details[0].debug.fieldViolations[0].field' <<<"$OUT")" "^$3$" \
		"$4: the ErrorDetail names it too"
}
rpc_raw() { # rpc_raw JSON: GetAvailability with that body
	local result
	result=$(curl -s --max-time 10 -w '\n%{http_code}' -H 'content-type: application/json' \
		--data-binary "$1" "$HUB_URL/renkei.v1.FacilityService/GetAvailability")
	STATUS=${result##*$'\n'}
	OUT=${result%$'\n'*}
}
rpc_raw "{\"window\": {\"start\": \"$(day 1)\", \"end\": \"$(day 2)\"}}"
expect_eq "$STATUS:$(jq -r .message <<<"$OUT")" "400:facility_ids: required: 1 to 50 Facility.id values" "no facilities"
expect_invalid "$(seq -s, 1 51)" "$W" 'facility_ids' "51 facilities"
expect_invalid "$CHOFU,abc" "$W" 'facility_ids\[3\]' "a malformed id"
expect_invalid "${CHOFU%%,*},${CHOFU%%,*}" "$W" 'facility_ids\[1\]' "the same id twice"
expect_invalid "$CHOFU" "$(day 2) $(day 1)" 'window\.end' "a reversed window"
expect_invalid "$CHOFU" "$(day 1) $(day 40)" 'window' "a window of 39 days"
expect_invalid "$CHOFU" "$(day 400) $(day 401)" 'window\.end' "a window past the horizon"
expect_invalid "$CHOFU" "tomorrow $(day 2)" 'window\.start' "a start that is not RFC 3339"
rpc_raw "{\"facilityIds\": [\"${CHOFU%%,*}\"]}"
expect_eq "$STATUS:$(jq -r .message <<<"$OUT")" "400:window: required: the period to show slots for" "no window"
avail 2000 "${CHOFU%%,*},999999999" "$W"
expect_eq "$STATUS:$(jq -r .code <<<"$OUT"):$(jq -r .message <<<"$OUT")" \
	"404:not_found:facility_ids[1]: no facility with id 999999999" "an unknown facility is NOT_FOUND, named"

expect_ok "disable chofu" adapter disable --tenant chofu --name sim-chofu
avail 2000 "$CHOFU,$ITABASHI" "$(window 6)"
expect_eq "$(city chofu status):$(city itabashi status)" ANSWER_STATUS_UNAVAILABLE:ANSWER_STATUS_OK \
	"a disabled adapter: UNAVAILABLE, the others answer"
expect_match "$(city chofu message)" '^no active adapter' "the message says why"

# --- 7. a clean exit with a fan-out waiting on an owner that hangs --------------------------------
sim_restart komae '{"latency": {"distribution": "fixed", "fixed_ms": 3000}}'
avail 0 "$KOMAE" "$(window 7)" &
waiting=$!
sleep 0.3
hub_stop
wait "$waiting" || true
pass "renkeid exits 0 on SIGTERM with a fan-out waiting on a hanging owner"
for c in chofu komae kiyose itabashi; do
	sim_stop "$c"
done
pass "every sim exits 0 on SIGTERM"
