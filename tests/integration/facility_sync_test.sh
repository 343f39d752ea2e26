# facility_sync_test.sh — the facility catalogue, end to end: renkeid on the real PostgreSQL
# (with PostGIS) of tests/run and renkei-adapter-sim processes for chofu (generated
# facilities), itabashi (板橋区's real 公共施設一覧 CSV) and kiyose (a catalogue that churns),
# registered with renkeictl. `renkeictl adapter sync` fills rk_facility (Japanese names
# intact, locations as geography); a second sync changes nothing; a facility removed at the
# sim disappears; a sim that is down → the sync fails and the adapter's last_error says why,
# and the next good sync clears it. FacilityService.SearchFacilities and GetFacility over
# Connect JSON with curl: kind, municipality by slug and code, free text, near a point with
# distances in order and a radius, capacity, paging, bad input naming the field. The hub and
# every sim must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

# rpc METHOD JSON: a FacilityService call over Connect JSON without credentials; sets OUT and
# STATUS (the HTTP status).
rpc() {
	local body
	body=$(curl -s --max-time 10 -w '\n%{http_code}' -H 'content-type: application/json' \
		--data-binary "$2" "$HUB_URL/renkei.v1.FacilityService/$1") || fail "$1: curl failed"
	STATUS=${body##*$'\n'}
	OUT=${body%$'\n'*}
}

search() { # search WHAT JSON: expects 200
	rpc SearchFacilities "$2"
	[[ $STATUS == 200 ]] || fail "$1: HTTP $STATUS: $OUT"
}

expect_invalid() { # expect_invalid REQUEST_JSON MESSAGE_REGEX WHAT
	rpc SearchFacilities "$1"
	expect_eq "$STATUS:$(jq -r .code <<<"$OUT")" 400:invalid_argument "$3: INVALID_ARGUMENT"
	expect_match "$(jq -r .message <<<"$OUT")" "$2" "$3: the message names the field"
}

count() { sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = '$1'"; }

# --- the hub and three sims -------------------------------------------------------------------
export RENKEI_PG
RENKEI_PG=$(fresh_db facility_sync_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000 # syncs in this test are asked for
hub_start
expect_eq "$(sql "$RENKEI_PG" "SELECT extname FROM pg_extension WHERE extname = 'postgis'")" postgis \
	"the migration enables PostGIS"

chofu='"municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu", "name_kana": "チョウフシ"}'
itabashi='"municipality": {"code": "131199", "slug": "itabashi", "name_ja": "板橋区", "name_en": "Itabashi", "name_kana": "イタバシク"}'
kiyose='"municipality": {"code": "132217", "slug": "kiyose", "name_ja": "清瀬市", "name_en": "Kiyose", "name_kana": "キヨセシ"}'
csv=$RENKEI_SOURCE_DIR/adapters/sim/data/itabashi_public_facilities.csv
[[ -f $csv ]] || fail "the Itabashi CSV is missing: $csv"

sim_start chofu "{\"adapter\": {\"name\": \"sim-chofu\"}, $chofu, \"sim\": {\"facilities\": {\"count\": 40}}}"
chofu_port=$SIM_PORT
sim_start itabashi "{\"adapter\": {\"name\": \"sim-itabashi\"}, $itabashi, \"sim\": {\"facilities\": {\"csv_file\": \"$csv\"}}}"
itabashi_port=$SIM_PORT
sim_start kiyose "{\"adapter\": {\"name\": \"sim-kiyose\"}, $kiyose, \"sim\": {\"facilities\": {\"count\": 5, \"churn_interval_ms\": 700}}}"
kiyose_port=$SIM_PORT

expect_ok "register chofu" adapter register --tenant chofu --name sim-chofu \
	--endpoint "http://127.0.0.1:$chofu_port" --capability facility_catalogue
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "chofu's sim is ACTIVE"
expect_ok "register itabashi" adapter register --tenant itabashi --name sim-itabashi \
	--endpoint "http://127.0.0.1:$itabashi_port" --capability facility_catalogue
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "itabashi's sim is ACTIVE"
expect_ok "register kiyose" adapter register --tenant 132217 --name sim-kiyose \
	--endpoint "http://127.0.0.1:$kiyose_port" --capability facility_catalogue
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "kiyose's sim is ACTIVE"

# --- 1. the first sync lists everything ---------------------------------------------------------
expect_ok "sync chofu" adapter sync --tenant chofu --name sim-chofu
expect_eq "$(jq -r '.added' <<<"$OUT")" 40 "chofu: 40 facilities added"
expect_match "$(jq -r .adapter.changeToken <<<"$OUT")" '.+' "chofu: the change token is returned"
expect_match "$(jq -r .adapter.lastSyncAt <<<"$OUT")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' \
	"chofu: last_sync_at is returned"
expect_eq "$(count sim-chofu)" 40 "chofu: 40 rows in rk_facility"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility_sync s JOIN rk_adapter a ON a.id = s.adapter_id WHERE a.name = 'sim-chofu' AND s.change_token <> ''")" 1 \
	"chofu: the change token is stored"

expect_ok "sync itabashi" adapter sync --tenant itabashi --name sim-itabashi
itabashi_added=$(jq -r ".added // 0" <<<"$OUT")
((itabashi_added >= 40)) || fail "itabashi: only $itabashi_added facilities from the CSV: $OUT"
pass "itabashi: $itabashi_added facilities from the real CSV"
expect_eq "$(sql "$RENKEI_PG" "SELECT name_ja FROM rk_facility WHERE owner_facility_id = '131199000099'")" \
	"城北野球場Ｂ面" "itabashi: the CSV row 131199000099 is there, its Japanese name intact"
expect_eq "$(sql "$RENKEI_PG" "SELECT kind FROM rk_facility WHERE owner_facility_id = '131199000099'")" \
	1 "itabashi: 城北野球場 is a baseball field"
expect_eq "$(sql "$RENKEI_PG" "SELECT round(ST_Y(location::geometry)::numeric, 6) || ',' || round(ST_X(location::geometry)::numeric, 6) FROM rk_facility WHERE owner_facility_id = '131199000099'")" \
	"35.782829,139.682466" "itabashi: the CSV's coordinates are the geography point"
expect_eq "$(sql "$RENKEI_PG" "SELECT body ->> 'ownerFacilityId' FROM rk_facility WHERE owner_facility_id = '131199000099'")" \
	131199000099 "the whole Facility message is kept as jsonb"

# --- 2. a second sync changes nothing ----------------------------------------------------------
before=$(sql "$RENKEI_PG" "SELECT md5(string_agg(id || updated_at::text || body::text, ',' ORDER BY id)) FROM rk_facility")
expect_ok "sync chofu again" adapter sync --tenant chofu --name sim-chofu
expect_eq "$(jq -c '[.added // 0, .updated // 0, .removed // 0]' <<<"$OUT")" "[0,0,0]" \
	"chofu: a second sync adds, changes and removes nothing"
expect_ok "sync itabashi again" adapter sync --tenant itabashi --name sim-itabashi
expect_eq "$(jq -c '[.added // 0, .updated // 0, .removed // 0]' <<<"$OUT")" "[0,0,0]" \
	"itabashi: a second sync adds, changes and removes nothing"
expect_eq "$(sql "$RENKEI_PG" "SELECT md5(string_agg(id || updated_at::text || body::text, ',' ORDER BY id)) FROM rk_facility")" \
	"$before" "the table is unchanged after the second syncs"
status=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -H 'content-type: application/json' \
	-H "authorization: Bearer $RENKEI_ADMIN_TOKEN" \
	--data-binary '{"tenant": "chofu", "name": "sim-chofu", "full": true}' \
	"$HUB_URL/renkei.v1.AdminService/SyncAdapter")
expect_eq "$status:$(jq -c '[.added // 0, .updated // 0, .removed // 0]' "$WORK/out.json")" "200:[0,0,0]" \
	"chofu: a full sync (SyncAdapter full) changes nothing either"
expect_eq "$(count sim-chofu)" 40 "chofu: still 40 rows"

# --- 3. churn: a facility added at the sim appears, and disappears once removed ---------------
expect_ok "sync kiyose" adapter sync --tenant kiyose --name sim-kiyose
base=5
added_id=
for _ in $(seq 1 60); do
	expect_ok "sync kiyose while it churns" adapter sync --tenant kiyose --name sim-kiyose >/dev/null
	added_id=$(sql "$RENKEI_PG" "SELECT f.owner_facility_id FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = 'sim-kiyose' AND f.owner_facility_id > 'kiyose-f0005' ORDER BY 1 LIMIT 1")
	[[ -n $added_id ]] && break
	sleep 0.1
done
[[ -n $added_id ]] || fail "kiyose: no facility added by churn appeared after sync"
pass "kiyose: the facility $added_id added at the sim appears after a sync"
gone=
for _ in $(seq 1 60); do
	ctl adapter sync --tenant kiyose --name sim-kiyose
	[[ $RC == 0 ]] || fail "sync kiyose: $OUT"
	if [[ $(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility WHERE owner_facility_id = '$added_id'") == 0 ]]; then
		gone=1
		break
	fi
	sleep 0.1
done
[[ -n $gone ]] || fail "kiyose: $added_id was never removed after sync"
pass "kiyose: $added_id removed at the sim disappears after a sync"
((base <= $(count sim-kiyose))) || fail "kiyose: generated facilities went missing"

# --- 4. the adapter down: the sync fails and says why; back up: cleared -------------------------
sim_stop itabashi
ctl adapter sync --tenant itabashi --name sim-itabashi
expect_eq "$RC:$(jq -r .code <<<"$OUT")" 1:unavailable "a sync of a sim that is down is UNAVAILABLE"
expect_match "$(jq -r .message <<<"$OUT")" 'sync: ListFacilities: unavailable' "the message says why"
expect_match "$(sql "$RENKEI_PG" "SELECT last_error FROM rk_adapter WHERE name = 'sim-itabashi'")" \
	'^sync: ListFacilities: unavailable: ' "the error is recorded on the adapter"
expect_eq "$(count sim-itabashi)" "$itabashi_added" "the facilities of an owner that is down are kept"
kill -0 "$HUB_PID" || fail "the hub died"
pass "the hub survives a sync of an adapter that is down"
sim_start itabashi "{\"adapter\": {\"name\": \"sim-itabashi\"}, $itabashi, \"sim\": {\"facilities\": {\"csv_file\": \"$csv\"}}}" "$itabashi_port"
expect_ok "sync itabashi once it is back" adapter sync --tenant itabashi --name sim-itabashi
expect_eq "$(jq -r '.adapter.lastError // ""' <<<"$OUT")" "" "a good sync clears the error"
expect_eq "$(count sim-itabashi)" "$itabashi_added" "a restarted sim (unknown token: full listing) keeps the same rows"

# Not a catalogue adapter, unknown names, bad input, no token.
ctl adapter sync --tenant itabashi --name nobody
expect_eq "$RC:$(jq -r .code <<<"$OUT")" 1:not_found "sync of an unknown adapter is NOT_FOUND"
ctl adapter sync --tenant nowhere --name sim-chofu
expect_eq "$RC:$(jq -r .code <<<"$OUT")" 1:not_found "sync in an unknown tenant is NOT_FOUND"
status=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -H 'content-type: application/json' \
	--data-binary '{"tenant": "chofu", "name": "sim-chofu"}' "$HUB_URL/renkei.v1.AdminService/SyncAdapter")
expect_eq "$status:$(jq -r .code "$WORK/out.json")" 401:unauthenticated "SyncAdapter needs the admin token"

# --- 5. SearchFacilities ------------------------------------------------------------------------
search "by kind" '{"kinds": ["FACILITY_KIND_BASEBALL_FIELD"], "page": {"pageSize": 100}}'
expect_eq "$(jq -r '[.results[].facility.kind] | unique | join(",")' <<<"$OUT")" FACILITY_KIND_BASEBALL_FIELD \
	"by kind: only baseball fields"
expect_eq "$(jq -r '.page.totalSize' <<<"$OUT")" \
	"$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility WHERE kind = 1")" "by kind: every baseball field of every city"
expect_match "$(jq -r '[.results[].facility.owner.slug] | unique | join(",")' <<<"$OUT")" 'itabashi' \
	"by kind: itabashi's fields are among them"

search "by municipality slug" '{"municipalities": ["chofu"], "page": {"pageSize": 100}}'
expect_eq "$(jq -r '.results | length' <<<"$OUT"):$(jq -r '[.results[].facility.owner.code] | unique | join(",")' <<<"$OUT")" \
	40:132080 "by municipality slug: chofu's 40"
search "by municipality code" '{"municipalities": ["131199"], "kinds": [1], "page": {"pageSize": 100}}'
expect_eq "$(jq -r '[.results[].facility.owner.slug] | unique | join(",")' <<<"$OUT")" itabashi \
	"by municipality code and kind number"

search "free text" '{"query": "城北野球場"}'
expect_match "$(jq -r '[.results[].facility.name.ja] | join(",")' <<<"$OUT")" '城北野球場Ｂ面' "free text in kanji"
id=$(jq -r '[.results[] | select(.facility.ownerFacilityId == "131199000099")][0].facility.id' <<<"$OUT")
[[ $id =~ ^[0-9]+$ ]] || fail "free text: no hub id for 131199000099: $OUT"

# Free text in kana, romaji and English names the kind through its reading and synonyms; a
# place name narrows it through the facilities' name keys.
baseball=$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility WHERE kind = 1")
for q in やきゅう ヤキュウ yakyu baseball 野球; do
	search "free text $q" "{\"query\": \"$q\", \"page\": {\"pageSize\": 100}}"
	expect_eq "$(jq -r '[.results[] | select(.facility.kind == "FACILITY_KIND_BASEBALL_FIELD")] | length' <<<"$OUT")" "$baseball" \
		"'$q' finds every baseball field"
done
# Two words: a place's reading (in katakana, as typed from a sign) and the kind in romaji.
read -r place place_id < <(sql "$RENKEI_PG" "SELECT split_part(name_kana, ' ', 1), id FROM rk_facility
	WHERE kind = 1 AND name_kana LIKE '% %' ORDER BY id LIMIT 1" | tr '|' ' ')
[[ -n $place ]] || fail "no baseball field with a reading in two words"
search "free text: two words" "{\"query\": \"$place yakyu\", \"page\": {\"pageSize\": 100}}"
expect_eq "$(jq --arg id "$place_id" '[.results[] | select(.facility.id == $id)] | length' <<<"$OUT")" 1 \
	"'$place yakyu' finds that field"
expect_eq "$(jq --arg p "$place" '[.results[] | select((.facility.name.kana | contains($p)) and .facility.kind == "FACILITY_KIND_BASEBALL_FIELD" | not)] | length' <<<"$OUT")" 0 \
	"…and only baseball fields read $place"
search "free text: nothing" '{"query": "qzxv"}'
expect_eq "$(jq -r '.results | length' <<<"$OUT")" 0 "a word in no name and naming no kind finds nothing"

# Near 城北野球場: ordered by distance, within the radius, the field itself first.
near='"near": {"latitude": 35.782829, "longitude": 139.682466}'
search "near a point" "{$near, \"radiusMeters\": 3000, \"page\": {\"pageSize\": 100}}"
expect_eq "$(jq -r '.results[0].facility.ownerFacilityId' <<<"$OUT")" 131199000099 "near: the nearest first"
expect_eq "$(jq -r '[.results[].distanceMeters // 0] | . == sort' <<<"$OUT")" true "near: distances in order"
expect_eq "$(jq -r '[.results[].distanceMeters // 0] | all(. <= 3000)' <<<"$OUT")" true "near: all within the radius"
expect_eq "$(jq -r '.results | length' <<<"$OUT")" \
	"$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility WHERE ST_DWithin(location, ST_SetSRID(ST_MakePoint(139.682466, 35.782829), 4326)::geography, 3000)")" \
	"near: every facility within 3 km"
search "near, sorted by distance, every city" "{$near, \"sort\": \"FACILITY_SORT_DISTANCE\", \"page\": {\"pageSize\": 100}}"
expect_eq "$(jq -r '[.results[].distanceMeters // 0] | . == sort' <<<"$OUT")" true "sort by distance over cities"

search "capacity" '{"minCapacity": 50, "page": {"pageSize": 100}}'
expect_eq "$(jq -r '[.results[].facility.capacity // 0] | all(. >= 50)' <<<"$OUT")" true "min_capacity"

# Paging: pages of 7 over chofu, no repeats, no gaps, the token bound to its filters.
seen=()
token=
for _ in $(seq 1 10); do
	search "paging" "{\"municipalities\": [\"chofu\"], \"page\": {\"pageSize\": 7, \"pageToken\": \"$token\"}}"
	mapfile -t page_ids < <(jq -r '.results[].facility.id' <<<"$OUT")
	((${#page_ids[@]} <= 7)) || fail "paging: a page of ${#page_ids[@]}"
	seen+=("${page_ids[@]}")
	token=$(jq -r '.page.nextPageToken // ""' <<<"$OUT")
	[[ -n $token ]] || break
done
expect_eq "${#seen[@]}:$(printf '%s\n' "${seen[@]}" | sort -u | wc -l)" 40:40 "paging: 40 distinct facilities in pages of 7"
search "a big page" '{"page": {"pageSize": 1000}}'
expect_eq "$(jq -r '.results | length' <<<"$OUT")" "$(jq -r '[.page.totalSize, 100] | min' <<<"$OUT")" \
	"page_size above 100 is reduced, not refused"

# GetFacility.
rpc GetFacility "{\"facilityId\": \"$id\"}"
expect_eq "$STATUS:$(jq -r .facility.name.ja <<<"$OUT"):$(jq -r .facility.owner.code <<<"$OUT")" \
	"200:城北野球場Ｂ面:131199" "GetFacility"
expect_eq "$(sql "$RENKEI_PG" "SELECT packed IS NOT NULL FROM rk_facility WHERE id = $id")" t \
	"the sync stored the facility packed as its adapter listed it"
PACKED_ANSWER=$(jq -S . <<<"$OUT")
sql "$RENKEI_PG" "UPDATE rk_facility SET packed = NULL WHERE id = $id" >/dev/null
rpc GetFacility "{\"facilityId\": \"$id\"}"
expect_eq "$(jq -S . <<<"$OUT")" "$PACKED_ANSWER" "the JSON body of a row synced before it answers the same"
rpc GetFacility '{"facilityId": "999999999"}'
expect_eq "$STATUS:$(jq -r .code <<<"$OUT")" 404:not_found "GetFacility of an unknown id"
rpc GetFacility '{"facilityId": "abc"}'
expect_eq "$STATUS:$(jq -r .message <<<"$OUT")" "400:facility_id: not a Facility.id of this hub" \
	"GetFacility of a malformed id"

# Bad input names the field.
expect_invalid '{"near": {"latitude": 91, "longitude": 139}}' '^near\.latitude:' "latitude out of range"
expect_invalid '{"near": {"latitude": 35, "longitude": 181}}' '^near\.longitude:' "longitude out of range"
expect_invalid '{"radiusMeters": 100}' '^radius_meters: needs near' "radius without near"
expect_invalid "{$near, \"radiusMeters\": -1}" '^radius_meters:' "negative radius"
expect_invalid '{"minCapacity": -1}' '^min_capacity:' "negative capacity"
expect_invalid '{"kinds": [77]}' '^kinds\[0\]: unknown FacilityKind 77' "unknown kind number"
expect_invalid '{"kinds": ["POOL"]}' 'kinds' "unknown kind name"
expect_invalid "{\"query\": \"$(printf 'あ%.0s' $(seq 1 201))\"}" '^query: at most 200' "query too long"
expect_invalid '{"page": {"pageSize": -1}}' '^page\.page_size:' "negative page size"
expect_invalid '{"page": {"pageToken": "garbage"}}' '^page\.page_token:' "a made-up page token"
search "a token" '{"municipalities": ["chofu"], "page": {"pageSize": 7}}'
token=$(jq -r .page.nextPageToken <<<"$OUT")
expect_invalid "{\"municipalities\": [\"itabashi\"], \"page\": {\"pageSize\": 7, \"pageToken\": \"$token\"}}" \
	'^page\.page_token:' "a token of another search"
expect_invalid '{"sort": "FACILITY_SORT_DISTANCE"}' '^sort: FACILITY_SORT_DISTANCE needs near' "distance sort without near"

# A disabled adapter's facilities leave the search.
expect_ok "disable kiyose" adapter disable --tenant kiyose --name sim-kiyose
search "after disable" '{"municipalities": ["kiyose"]}'
expect_eq "$(jq -r '.results | length' <<<"$OUT")" 0 "a disabled adapter's facilities are not shown"

# --- 6. the periodic sync, and a clean exit with a sync in flight -------------------------------
# A slow owner (every call takes 2.5 s): its sync is still waiting when the hub is stopped.
komae='"municipality": {"code": "132195", "slug": "komae", "name_ja": "狛江市", "name_en": "Komae", "name_kana": "コマエシ"}'
sim_start slow "{\"adapter\": {\"name\": \"sim-slow\"}, $komae, \"sim\": {\"facilities\": {\"count\": 3}, \"faults\": {\"latency\": {\"distribution\": \"fixed\", \"fixed_ms\": 2500}}}}"
expect_ok "register a slow sim" adapter register --tenant komae --name sim-slow \
	--endpoint "http://127.0.0.1:$SIM_PORT" --capability facility_catalogue
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "the slow sim is ACTIVE"
hub_stop
pass "renkeid exits 0 on SIGTERM"
sql "$RENKEI_PG" "DELETE FROM rk_facility_sync; DELETE FROM rk_facility" >/dev/null
RENKEI_LOG_LEVEL=debug RENKEI_FACILITY_SYNC_INTERVAL_MS=1000 hub_start
for _ in $(seq 1 100); do
	[[ $(count sim-chofu) == 40 && $(count sim-itabashi) == "$itabashi_added" ]] && break
	sleep 0.05
done
expect_eq "$(count sim-chofu):$(count sim-itabashi)" "40:$itabashi_added" "the periodic sync fills the catalogue"
grep -q '"msg":"facility catalogue sync started".*"adapter":"sim-slow"' "$HUB_LOG" ||
	fail "the slow sim's sync did not start"
grep -q '"msg":"facility catalogue synced".*"adapter":"sim-slow"' "$HUB_LOG" &&
	fail "the slow sim's sync finished too early for this test"
hub_stop
pass "renkeid exits 0 on SIGTERM with a sync waiting on a slow adapter"
expect_eq "$(count sim-slow)" 0 "the interrupted sync stored nothing"
for name in chofu itabashi kiyose slow; do
	sim_stop "$name"
done
pass "every sim exits 0 on SIGTERM"
