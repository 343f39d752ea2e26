# facility_kinds_test.sh — FacilityService.ListFacilityKinds against a real renkeid (on the
# real PostgreSQL of tests/run), called with curl over Connect JSON without credentials, on
# HTTP/1.1 and HTTP/2: every FacilityKind of proto/renkei/v1/facility.proto once, in enum
# order with OTHER last, names in Japanese, English and katakana, the synonyms search uses
# (the proto comments' words among them), a cache-control header, the same answer every time,
# and a clean exit (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db facility_kinds_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
hub_start

url=$HUB_URL/renkei.v1.FacilityService/ListFacilityKinds
headers=$WORK/headers
out=$(curl -s --max-time 10 -D "$headers" -H 'content-type: application/json' --data-binary '{}' "$url")
expect_match "$(head -n 1 "$headers")" '^HTTP/1.1 200' "ListFacilityKinds answers 200 without a login"
expect_match "$(cat "$headers")" $'cache-control: public, max-age=86400\r' "the answer may be cached"

# The enum's values as facility.proto declares them, UNSPECIFIED left out.
proto=$RENKEI_SOURCE_DIR/proto/renkei/v1/facility.proto
declared=$(sed -n '/^enum FacilityKind {/,/^}/p' "$proto" | grep -o 'FACILITY_KIND_[A-Z_]*' |
	grep -v UNSPECIFIED | paste -sd, -)
expect_eq "$(jq -r '[.kinds[].kind] | join(",")' <<<"$out")" "$declared" \
	"every FacilityKind once, in enum order, OTHER last"
expect_eq "$(jq -r '.kinds[-1].kind' <<<"$out")" FACILITY_KIND_OTHER "OTHER is last"
expect_eq "$(jq '[.kinds[] | select(.name.ja == "" or .name.en == "" or .name.kana == "" or .name.ja == null or .name.en == null or .name.kana == null)] | length' <<<"$out")" 0 \
	"every kind has a Japanese, English and kana name"

baseball=$(jq -c '.kinds[] | select(.kind == "FACILITY_KIND_BASEBALL_FIELD")' <<<"$out")
expect_eq "$(jq -r '.name | [.ja, .en, .kana] | join("/")' <<<"$baseball")" "野球場/Baseball field/ヤキュウジョウ" \
	"the baseball field's names"
expect_eq "$(jq -r '[.synonyms[] | select(. == "球場" or . == "やきゅう" or . == "baseball")] | length' <<<"$baseball")" 3 \
	"its synonyms hold 球場, やきゅう and baseball"

# Each word the proto comments give for a kind is that kind's name or one of its synonyms.
while IFS= read -r line; do
	kind=$(grep -o 'FACILITY_KIND_[A-Z_]*' <<<"$line")
	words=$(sed -n 's|.*// *||p' <<<"$line")
	[[ $kind == FACILITY_KIND_UNSPECIFIED || $kind == FACILITY_KIND_OTHER ]] && continue
	IFS=, read -ra list <<<"$words"
	for word in "${list[@]}"; do
		word=$(sed 's/^ *//; s/ *$//; s/（.*//' <<<"$word") # 競技場（屋内）: 競技場
		[[ -n $word ]] || continue
		known=$(jq --arg k "$kind" --arg w "$word" \
			'[.kinds[] | select(.kind == $k) | (.name.ja, .synonyms[]?) | select(contains($w))] | length' <<<"$out")
		[[ $known -gt 0 ]] || fail "$kind: the proto comment's '$word' is not among its names or synonyms"
	done
done < <(sed -n '/^enum FacilityKind {/,/^}/p' "$proto" | grep 'FACILITY_KIND_.*//')
pass "every word of the proto comments is a name or synonym of its kind"

again=$(curl -s --max-time 10 -H 'content-type: application/json' --data-binary '{}' "$url")
expect_eq "$again" "$out" "the same answer the second time"
h2=$(curl -s --max-time 10 --http2-prior-knowledge -H 'content-type: application/json' --data-binary '{}' "$url")
expect_eq "$h2" "$out" "the same answer over HTTP/2"

hub_stop
pass "renkeid exits 0 on SIGTERM"
