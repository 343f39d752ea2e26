# opendata_sync_test.sh — renkei-adapter-opendata against the hub: renkeid on the real
# PostgreSQL (with PostGIS) of tests/run, the opendata adapter serving a copy of 板橋区's real
# 公共施設一覧 CSV (its sports rows left out) next to renkei-adapter-sim serving those sports rows
# bookable: two facility adapters for one tenant. `renkeictl adapter sync` fills rk_facility;
# FacilityService.SearchFacilities over Connect JSON (curl) finds an itabashi meeting room,
# catalogue only, with the booking URL, and the sim's baseball field as bookable. Then the
# operator's moves: the file replaced by a copy with one row edited and one removed → the next
# incremental sync delivers exactly that (1 updated, 1 removed); the same data in Shift_JIS →
# nothing changes; a half-copied file → the catalogue stays and the adapter's log names the
# file and line; an adapter restart (the hub's token unknown to it) → a full listing that
# changes nothing. Every process must exit 0 on SIGTERM (the sanitizers report through it).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

OPENDATA=$RENKEI_BIN_DIR/renkei-adapter-opendata
[[ -x $OPENDATA ]] || fail "no $OPENDATA: build the renkei-adapter-opendata target"

# opendata_start PORT: the opendata adapter on PORT with $WORK/opendata.json (sim.sh's
# helpers start and stop it like a sim: they run $SIM).
opendata_start() {
	SIM=$OPENDATA sim_start opendata "$(cat "$WORK/opendata.json")" "$1"
}

search() { # search JSON: SearchFacilities over Connect JSON without credentials; sets OUT
	local body
	body=$(curl -s --max-time 10 -w '\n%{http_code}' -H 'content-type: application/json' \
		--data-binary "$1" "$HUB_URL/renkei.v1.FacilityService/SearchFacilities") ||
		fail "SearchFacilities: curl failed"
	OUT=${body%$'\n'*}
	[[ ${body##*$'\n'} == 200 ]] || fail "SearchFacilities $1: HTTP ${body##*$'\n'}: $OUT"
}

# replace_file SOURCE: how an operator updates the catalogue: a copy next to it, then rename.
replace_file() {
	cp "$1" "$WORK/facilities.csv.new"
	mv "$WORK/facilities.csv.new" "$WORK/facilities.csv"
}

sync_counts() { # sync_counts: syncs opendata-itabashi, prints [added, updated, removed]
	expect_ok "sync opendata-itabashi" adapter sync --tenant itabashi --name opendata-itabashi
	jq -c '[.added // 0, .updated // 0, .removed // 0]' <<<"$OUT"
}

row() { sql "$RENKEI_PG" "SELECT $2 FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = 'opendata-itabashi' AND f.owner_facility_id = '$1'"; }

# --- the hub, the sim (sports rows) and the opendata adapter (the rest) ------------------------
export RENKEI_PG
RENKEI_PG=$(fresh_db opendata_sync_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000 # syncs in this test are asked for
hub_start

original=$RENKEI_SOURCE_DIR/adapters/sim/data/itabashi_public_facilities.csv
cp "$original" "$WORK/facilities.csv"
itabashi='"municipality": {"code": "131199", "slug": "itabashi", "name_ja": "板橋区", "name_en": "Itabashi", "name_kana": "イタバシク"}'
demo=$RENKEI_SOURCE_DIR/adapters/opendata/demo/itabashi.json
booking_url=$(jq -r .opendata.booking_url "$demo")
# The demo's settings, on this test's copy of the file.
jq --arg file "$WORK/facilities.csv" '.opendata.files = [$file] | del(.listen)' "$demo" >"$WORK/opendata.json"

sim_start itabashi "{\"adapter\": {\"name\": \"sim-itabashi\"}, $itabashi, \"sim\": {\"facilities\": {\"csv_file\": \"$original\"}, \"library\": {\"enabled\": false}}}"
expect_ok "register the sim" adapter register --tenant itabashi --name sim-itabashi \
	--endpoint "http://127.0.0.1:$SIM_PORT" --capability facility_catalogue
opendata_start ""
opendata_port=$SIM_PORT
expect_ok "register opendata" adapter register --tenant itabashi --name opendata-itabashi \
	--endpoint "http://127.0.0.1:$opendata_port" --capability facility_catalogue
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE \
	"a second facility adapter of one tenant is ACTIVE"

expect_ok "sync the sim" adapter sync --tenant itabashi --name sim-itabashi
expect_eq "$(jq -r '.added // 0' <<<"$OUT")" 44 "the sim: 板橋区's 44 sports rows"
expect_eq "$(sync_counts)" "[272,0,0]" "opendata: the other 272 of the 316 rows are added"

# --- 1. search finds what each adapter serves -------------------------------------------------
search '{"kinds": ["FACILITY_KIND_MEETING_ROOM"], "municipalities": ["itabashi"], "page": {"pageSize": 100}}'
hit=$(jq -c '[.results[].facility | select(.ownerFacilityId == "131199000021")][0]' <<<"$OUT")
expect_eq "$(jq -r .name.ja <<<"$hit")" 仲宿地域センター "a meeting room of itabashi is found: 仲宿地域センター"
expect_eq "$(jq -r '.bookableViaHub // false' <<<"$hit")" false "it is catalogue only"
expect_eq "$(jq -r .bookingUrl <<<"$hit")" "$booking_url" "its booking URL is the owner's page"
expect_eq "$(jq -r .address.postalCode <<<"$hit")" 173-0013 "its postal code is normalised"
expect_eq "$(jq -r .owner.slug <<<"$hit")" itabashi "its owner is itabashi"
expect_match "$(jq -r .location.latitude <<<"$hit")" '^35\.7' "it has the CSV's coordinates"
search '{"kinds": ["FACILITY_KIND_BASEBALL_FIELD"], "municipalities": ["itabashi"], "page": {"pageSize": 100}}'
expect_eq "$(jq -r '[.results[].facility | select(.bookableViaHub != true)] | length' <<<"$OUT")" 0 \
	"itabashi's baseball fields all come from the sim, bookable (none duplicated by opendata)"
expect_match "$(jq -r '.results | length' <<<"$OUT")" '^[1-9][0-9]*$' "itabashi has baseball fields"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = 'opendata-itabashi' AND f.location IS NULL")" \
	0 "every row of the real file has its location"

# --- 2. the file is replaced: one row edited, one removed → exactly those changes ---------------
expect_eq "$(sync_counts)" "[0,0,0]" "an incremental sync with no new file changes nothing"
python3 - "$WORK/facilities.csv" "$WORK/changed.csv" <<'EOF'
import sys
data = open(sys.argv[1], encoding="utf-8", newline="").read()
edited = data.replace('"131199000021","板橋区","仲宿地域センター",',
                      '"131199000021","板橋区","仲宿地域センター（改修後）",', 1)
assert edited != data, "row 131199000021 not found"
lines = edited.split("\r\n")
kept = [l for l in lines if not l.startswith('"131199","131199000022",')]
assert len(kept) == len(lines) - 1, "row 131199000022 not found"
open(sys.argv[2], "w", encoding="utf-8", newline="").write("\r\n".join(kept))
EOF
replace_file "$WORK/changed.csv"
expect_eq "$(sync_counts)" "[0,1,1]" "after the replacement: exactly 1 updated and 1 removed"
expect_eq "$(row 131199000021 name_ja)" "仲宿地域センター（改修後）" "the edited row has its new name"
expect_eq "$(row 131199000022 count\(\*\))" 0 "the removed row is gone from the hub"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_facility f JOIN rk_adapter a ON a.id = f.adapter_id WHERE a.name = 'opendata-itabashi'")" \
	271 "271 rows remain"
search '{"query": "仲宿地域センター", "municipalities": ["itabashi"]}'
expect_eq "$(jq -r '.results[0].facility.name.ja' <<<"$OUT")" "仲宿地域センター（改修後）" "search shows the new name"

# --- 3. the same data in Shift_JIS changes nothing ----------------------------------------------
iconv -f UTF-8 -t CP932 "$WORK/changed.csv" >"$WORK/changed-sjis.csv" || fail "iconv to CP932 failed"
replace_file "$WORK/changed-sjis.csv"
expect_eq "$(sync_counts)" "[0,0,0]" "the same rows in Shift_JIS (CP932): nothing changes"

# --- 4. a half-copied file is refused; the catalogue stays ---------------------------------------
head -c 40000 "$WORK/changed.csv" >"$WORK/cut.csv"
replace_file "$WORK/cut.csv"
expect_eq "$(sync_counts)" "[0,0,0]" "a truncated file: the sync succeeds and changes nothing"
expect_match "$(grep 'files not read' "$WORK/opendata.log" | tail -n 1)" \
	"facilities.csv: line [0-9]+: " "the adapter's log names the file and the line"
replace_file "$original"
expect_eq "$(sync_counts)" "[1,1,0]" "the original file back: 131199000022 added again, 131199000021 updated"
expect_eq "$(row 131199000022 count\(\*\))" 1 "the removed row is back"
expect_eq "$(row 131199000021 name_ja)" 仲宿地域センター "the edited row has its old name again"

# --- 5. a restarted adapter does not know the hub's token: a full listing, no changes -----------
sim_stop opendata
opendata_start "$opendata_port"
expect_eq "$(sync_counts)" "[0,0,0]" "after a restart: a full listing that changes nothing"

sim_stop opendata
sim_stop itabashi
hub_stop
pass "opendata_sync_test"
