# tenant_load_test.sh — tenant files into the real PostgreSQL of tests/run: a bad file stops
# start-up with "file: json-path: reason" and writes nothing; good files load all eight
# tenants and their agreements; loading again changes nothing; a changed agreement gets a new
# version; a removed one disappears.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db tenant_load_test)
dir=$WORK/tenants
cp -r "$RENKEI_SOURCE_DIR/tenants" "$dir"
export RENKEI_TENANTS_DIR=$dir

# A wrong check digit in one file: start-up stops, the message names file and path.
jq '.code = "132111"' "$RENKEI_SOURCE_DIR/tenants/kodaira.json" >"$dir/kodaira.json"
status=0
"$RENKEI_BIN_DIR/renkeid" >"$HUB_LOG" 2>&1 || status=$?
expect_eq "$status" 1 "a bad tenant file stops start-up"
expect_match "$(cat "$HUB_LOG")" "kodaira.json: \\\$.code: check digit" "the error names file and path"
expect_eq "$(sql "$RENKEI_PG" "SELECT to_regclass('rk_tenant') IS NULL")" t \
	"nothing was loaded"

cp "$RENKEI_SOURCE_DIR/tenants/kodaira.json" "$dir/kodaira.json"
"$RENKEI_BIN_DIR/renkeid" --check-config >"$HUB_LOG" 2>&1 || fail "--check-config refused good files"
hub_start
hub_stop
expect_eq "$(sql "$RENKEI_PG" 'SELECT count(*) FROM rk_tenant')" 8 "eight tenants loaded"
agreements=$(sql "$RENKEI_PG" 'SELECT count(*) FROM rk_agreement')
(( agreements >= 20 )) || fail "expected the five cities' 20 directed agreements, got $agreements"
pass "agreements loaded ($agreements)"
expect_eq "$(sql "$RENKEI_PG" "SELECT name_kana FROM rk_tenant WHERE slug = 'higashimurayama'")" \
	"ひがしむらやまし" "kana intact"

before=$(sql "$RENKEI_PG" "SELECT string_agg(id || ':' || version || ':' || updated_at, ',' ORDER BY id) FROM rk_agreement")
hub_start
hub_stop
after=$(sql "$RENKEI_PG" "SELECT string_agg(id || ':' || version || ':' || updated_at, ',' ORDER BY id) FROM rk_agreement")
expect_eq "$after" "$before" "loading the same files again changes nothing"

# Change one agreement's terms: its rows get version 2.
jq '(.agreements[0].terms.partner_area.loan_limit) = 7' "$RENKEI_SOURCE_DIR/tenants/kiyose.json" >"$dir/kiyose.json"
hub_start
hub_stop
expect_eq "$(sql "$RENKEI_PG" "SELECT DISTINCT a.version FROM rk_agreement a JOIN rk_tenant t ON t.id = a.tenant_id WHERE t.slug = 'kiyose'")" \
	2 "a changed agreement is a new version"
expect_eq "$(sql "$RENKEI_PG" "SELECT DISTINCT (a.terms->'partner_area'->>'loan_limit') FROM rk_agreement a JOIN rk_tenant t ON t.id = a.tenant_id WHERE t.slug = 'kiyose'")" \
	7 "the new terms are stored"

# Remove kiyose's agreements from its file: they disappear.
jq 'del(.agreements)' "$RENKEI_SOURCE_DIR/tenants/kiyose.json" >"$dir/kiyose.json"
hub_start
hub_stop
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_agreement a JOIN rk_tenant t ON t.id = a.tenant_id WHERE t.slug = 'kiyose'")" \
	0 "agreements removed from the files are removed"
