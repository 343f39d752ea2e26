# agreement_admin_test.sh — agreements as governed objects: renkeid on the real PostgreSQL of
# tests/run with a renkei-adapter-sim for chofu (occupancy 0), driven through renkeictl with
# staff members' tokens, and a second renkeid on the same database (decisions reach it at
# once). 調布市 and 板橋区 have no agreement in tenants/. chofu's tenant-admin proposes
# chofu→itabashi facility booking terms (partner_area at the resident rate); until itabashi's
# tenant-admin approves, an itabashi resident's HoldSlot at a chofu facility is NOT_ELIGIBLE
# (and SSO does not admit her to chofu's booking site);
# the proposer cannot approve it, nor a third city's tenant-admin (403 naming the rule), nor an
# auditor; after approval the same hold is HELD as PARTNER_AREA with the agreement's id and
# version. A second version with other terms leaves the first in force until it is approved;
# itabashi ends it from a later day (in force until then); chofu ends it at once and the
# resident is refused again at once (booking and SSO admission), while the hold made under
# version 1 keeps version 1. A later proposal rejected with a note stays without effect.
# show/list --json round-trip what was proposed; bad input names the field.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db agreement_admin_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FACILITY_SYNC_INTERVAL_MS=3600000
export RENKEI_PUBLIC_URL=http://hub.agreements.test # one issuer: tokens verify on both hubs
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

sim_start chofu '{"adapter": {"name": "sim-chofu"},
 "municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu City", "name_kana": "チョウフシ"},
 "sim": {"facilities": {"count": 20, "occupancy_percent": 0}, "library": {"enabled": false}}}'
expect_ok "register the chofu sim" adapter register --tenant chofu --name sim-chofu \
	--endpoint "http://127.0.0.1:$SIM_PORT" --capability facility_catalogue --capability facility_booking
expect_ok "sync it" adapter sync --tenant chofu --name sim-chofu

# staff_token SLUG USERNAME ROLE: the access token of a new staff member of SLUG with ROLE, logged in
# through the realm's console client (scope admin).
staff_token() {
	curl -s "${ADMIN[@]}" -d "{\"username\": \"$2\", \"password\": \"$PASSWORD\", \"staff_roles\": [\"$3\"]}" \
		"$HUB_URL/admin/v1/realms/$1/users" | jq -e .username >/dev/null || fail "could not create $2 at $1"
	local console
	console=$(curl -s "${ADMIN[@]}" -d "{\"name\": \"console\", \"grant_types\": [\"authorization_code\"],
		\"redirect_uris\": [\"$REDIRECT\"], \"scopes\": [\"openid\", \"admin\"], \"first_party\": true}" \
		"$HUB_URL/admin/v1/realms/$1/clients" | jq -r '.client_id + " " + .client_secret')
	resident_token "$1" "$2" "openid admin" "$console"
}
resident_add itabashi ida
IDA=$(resident_token itabashi ida)
CHOFU_ADMIN=$(staff_token chofu chofu-admin tenant-admin)
ITABASHI_ADMIN=$(staff_token itabashi itabashi-admin tenant-admin)
ITABASHI_AUDITOR=$(staff_token itabashi itabashi-auditor auditor)
KOMAE_ADMIN=$(staff_token komae komae-admin tenant-admin)
[[ $IDA == ey* && $CHOFU_ADMIN == ey* && $ITABASHI_ADMIN == ey* && $KOMAE_ADMIN == ey* ]] ||
	fail "no access tokens for the resident and the staff"
# A second hub process on the same database: decisions reach it with no delay.
HUB1_URL=$HUB_URL HUB1_PID=$HUB_PID HUB1_LOG=$HUB_LOG
HUB_LOG=$WORK/hub2.log
hub_start
HUB2_URL=$HUB_URL HUB2_PID=$HUB_PID
EXTRA_PIDS+=("$HUB2_PID")
HUB_URL=$HUB1_URL HUB_PID=$HUB1_PID HUB_LOG=$HUB1_LOG

as() { # as TOKEN ARGS…: renkeictl --json with TOKEN as the bearer; sets OUT and RC
	local token=$1
	shift
	RENKEI_ADMIN_TOKEN=$token ctl "$@"
}

# An open-to-all facility without lotteries and free slots 3 to 5 days ahead.
FID=$(sql "$RENKEI_PG" "SELECT id FROM rk_facility WHERE bookable_via_hub AND body ->> 'lottery' IS NULL
	AND body -> 'usageRules' ->> 'en' LIKE 'Open to everyone%' ORDER BY id LIMIT 1")
[[ -n $FID ]] || fail "no open facility without lottery in the catalogue"
call "" GetAvailability "{\"facilityIds\": [\"$FID\"], \"window\": {\"start\": \"$(date -u -d '+3 days' +%Y-%m-%dT00:00:00Z)\",
	\"end\": \"$(date -u -d '+5 days' +%Y-%m-%dT00:00:00Z)\"}}"
SLOTS=$(jq -c '[.facilities[0].slots[] | select(.status == "SLOT_STATUS_AVAILABLE") | .time]' <<<"$OUT")
(($(jq length <<<"$SLOTS") >= 4)) || fail "too few free slots: $OUT"
hold() { # hold N KEY: ida holds free slot N; sets OUT, STATUS, REASON
	call "$IDA" HoldSlot "{\"facilityId\": \"$FID\", \"time\": $(jq -c ".[$1]" <<<"$SLOTS")}" "$2"
}
terms_version() { # ida's residency class and agreement version at the facility (GetFacility)
	call "$IDA" GetFacility "{\"facilityId\": \"$FID\"}"
	jq -r '.terms.residencyClass + " " + ((.terms.agreement.version // "") | tostring)' <<<"$OUT"
}

# SSO admission at a chofu relying party of facility.booking: where chofu's /authorize sends
# ida's logged-in browser without asking her anything (prompt=none) — the error, or "code".
SSO_CLIENT=$(curl -s "${ADMIN[@]}" -d "{\"name\": \"chofu booking\", \"grant_types\": [\"authorization_code\"],
	\"redirect_uris\": [\"$REDIRECT\"], \"scopes\": [\"openid\"], \"service\": \"facility.booking\"}" \
	"$HUB_URL/admin/v1/realms/chofu/clients" | jq -r .client_id)
sso_answer() {
	local location
	location=$(curl -s -b "$WORK/jar.ida" -o /dev/null -w '%{redirect_url}' "$HUB_URL/t/chofu/authorize?client_id=$SSO_CLIENT&redirect_uri=$REDIRECT&response_type=code&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=s&prompt=none")
	grep -q '[?&]code=' <<<"$location" && echo code || sed -n 's/.*[?&]error=\([^&]*\).*/\1/p' <<<"$location"
}

# --- 1. a proposal has no effect ----------------------------------------------------------------
TERMS_V1='{"partner_area": {"fee": "resident_rate", "booking_window_days": 30}}'
as "$CHOFU_ADMIN" agreement propose --tenant chofu --home itabashi --provider chofu \
	--service facility_booking --valid-from 2024-04-01 --terms "$TERMS_V1" --title "調布市・板橋区 施設相互利用"
[[ $RC == 0 ]] || fail "chofu's tenant-admin could not propose: $OUT"
ID=$(jq -r .agreement.id <<<"$OUT")
expect_eq "$(jq -r '[.agreement.state, .agreement.version, .agreement.home.slug, .agreement.provider.slug, .agreement.proposedBy.slug] | join(" ")' <<<"$OUT")" \
	"AGREEMENT_STATE_PROPOSED 1 itabashi chofu chofu" "proposed: version 1 of itabashi → chofu, by chofu"
expect_match "$(jq -r .agreement.proposedAt <<<"$OUT")" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "with the time of the proposal"
hold 0 k-before
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "before approval an itabashi resident is NOT_ELIGIBLE"
expect_eq "$(sso_answer)" access_denied "nor admitted by SSO to chofu's booking site"

# --- 2. only the other party decides ---------------------------------------------------------------
as "$CHOFU_ADMIN" agreement approve --tenant chofu --id "$ID" --version 1
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 permission_denied" "the proposer cannot approve its own proposal"
expect_match "$(jq -r .message <<<"$OUT")" 'chofu proposed version 1; the other party \(itabashi\) must decide' "naming the rule"
as "$KOMAE_ADMIN" agreement approve --tenant itabashi --id "$ID" --version 1
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 permission_denied" "a third city's tenant-admin cannot act for itabashi"
as "$KOMAE_ADMIN" agreement approve --tenant komae --id "$ID" --version 1
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 permission_denied" "nor approve as a city that is no party"
expect_match "$(jq -r .message <<<"$OUT")" 'komae is not a party of agreement' "naming the rule"
as "$ITABASHI_AUDITOR" agreement approve --tenant itabashi --id "$ID" --version 1
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 permission_denied" "an auditor cannot approve"
as "$ITABASHI_AUDITOR" agreement list --tenant itabashi
expect_eq "$RC $(jq -r '[.agreements[] | .id + ":" + .state] | join(" ")' <<<"$OUT")" "0 $ID:AGREEMENT_STATE_PROPOSED" \
	"but lists the proposal addressed to itabashi"
hold 0 k-still
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "refused approvals change nothing"

# --- 3. approval takes effect at once -------------------------------------------------------------
as "$ITABASHI_ADMIN" agreement approve --tenant itabashi --id "$ID" --version 1
expect_eq "$RC $(jq -r '.agreement.state + " " + .agreement.decidedAt[0:2]' <<<"$OUT")" "0 AGREEMENT_STATE_ACTIVE 20" \
	"itabashi's tenant-admin approves; decided_at recorded"
hold 0 k-after
expect_eq "$STATUS:$(jq -r '[.booking.state, .booking.residencyClass, .booking.agreement.agreementId, .booking.agreement.version] | join(" ")' <<<"$OUT")" \
	"200:BOOKING_STATE_HELD RESIDENCY_CLASS_PARTNER_AREA $ID 1" "the same hold is now HELD as PARTNER_AREA under agreement $ID v1"
expect_eq "$(HUB_URL=$HUB2_URL terms_version)" "RESIDENCY_CLASS_PARTNER_AREA 1" "the second hub process applies it too"
expect_eq "$(sso_answer)" consent_required "SSO admits her to chofu's booking site (she is asked to consent)"
BK1=$(jq -r .booking.id <<<"$OUT")
expect_eq "$(sql "$RENKEI_PG" "SELECT fee_basis || ' ' || agreement_id || ' ' || agreement_version FROM rk_booking WHERE id = '$BK1'")" \
	"resident_rate $ID 1" "at the resident rate the agreement gives, recorded with its id and version"

as "$ITABASHI_ADMIN" agreement show --tenant itabashi --id "$ID"
expect_eq "$(jq -c '.agreement | {services, terms, validity, title}' <<<"$OUT")" \
	'{"services":["AGREEMENT_SERVICE_FACILITY_BOOKING"],"terms":[{"residencyClass":"RESIDENCY_CLASS_PARTNER_AREA","feeBasis":"FEE_BASIS_RESIDENT_RATE","bookingWindowDays":30}],"validity":{"startDate":"2024-04-01"},"title":{"ja":"調布市・板橋区 施設相互利用"}}' \
	"show --json gives back what was proposed"

# --- 4. a new version needs approval again ----------------------------------------------------------
as "$CHOFU_ADMIN" agreement propose --tenant chofu --id "$ID" --home itabashi --provider chofu \
	--service facility_booking --valid-from 2024-04-01 --terms '{"partner_area": {"fee": "non_resident_rate"}}'
expect_eq "$RC $(jq -r '.agreement.state + " " + (.agreement.version | tostring)' <<<"$OUT")" "0 AGREEMENT_STATE_PROPOSED 2" \
	"new terms are version 2, proposed"
expect_eq "$(terms_version)" "RESIDENCY_CLASS_PARTNER_AREA 1" "version 1 stays in force until version 2 is approved"
as "$ITABASHI_ADMIN" agreement approve --tenant itabashi --id "$ID" --version 2
expect_eq "$RC $(jq -r .agreement.state <<<"$OUT")" "0 AGREEMENT_STATE_ACTIVE" "itabashi approves version 2"
expect_eq "$(terms_version)" "RESIDENCY_CLASS_PARTNER_AREA 2" "version 2 is in force at once"
as "$CHOFU_ADMIN" agreement list --tenant chofu --all-versions
expect_eq "$(jq -r --arg id "$ID" '[.agreements[] | select(.id == $id) | (.version | tostring) + ":" + .state] | join(" ")' <<<"$OUT")" \
	"2:AGREEMENT_STATE_ACTIVE 1:AGREEMENT_STATE_SUPERSEDED" "list --all-versions: version 1 superseded"

# --- 5. ending stops it at once ---------------------------------------------------------------------
LAST_DAY=$(TZ=Asia/Tokyo date -d '+30 days' +%F)
as "$ITABASHI_ADMIN" agreement end --tenant itabashi --id "$ID" --end-date "$LAST_DAY" --note "来年度で終了"
expect_eq "$RC $(jq -r '[.agreement.state, .agreement.validity.endDate] | join(" ")' <<<"$OUT")" \
	"0 AGREEMENT_STATE_ACTIVE $LAST_DAY" "itabashi ends it from a later day: ACTIVE until then"
expect_eq "$(terms_version)" "RESIDENCY_CLASS_PARTNER_AREA 2" "and in force meanwhile"
as "$ITABASHI_ADMIN" agreement end --tenant itabashi --id "$ID" --end-date 2020-01-01
expect_match "$RC $(jq -r .message <<<"$OUT")" '^1 end_date: 2020-01-01 is not between today' "an end date in the past names the field"
as "$ITABASHI_ADMIN" agreement end --tenant itabashi --id "$ID" --end-date 2025-13-01
expect_match "$RC $(jq -r .message <<<"$OUT")" "^1 end_date: '2025-13-01' is not a date" "an impossible end date names the field"
as "$CHOFU_ADMIN" agreement end --tenant chofu --id "$ID" --note "試行期間の終了"
expect_eq "$RC $(jq -r '[.agreement.state, .agreement.decisionNote, (.agreement.endedAt != null)] | join(" ")' <<<"$OUT")" \
	"0 AGREEMENT_STATE_ENDED 試行期間の終了 true" "chofu ends it, with its note and time"
hold 1 k-ended
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "an ended agreement is refused at once"
HUB_URL=$HUB2_URL hold 2 k-ended-hub2
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "by the second hub process too"
expect_eq "$(sso_answer)" access_denied "and SSO admission ends with it"
expect_eq "$(sql "$RENKEI_PG" "SELECT agreement_version FROM rk_booking WHERE id = '$BK1'")" 1 \
	"the hold made under version 1 keeps version 1"
as "$ITABASHI_ADMIN" agreement end --tenant itabashi --id "$ID"
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 failed_precondition" "ending it twice is refused"

# --- 6. a rejected proposal stays without effect ----------------------------------------------------
as "$CHOFU_ADMIN" agreement propose --tenant chofu --id "$ID" --home itabashi --provider chofu \
	--service facility_booking --valid-from 2024-04-01 --terms "$TERMS_V1"
expect_eq "$RC $(jq -r .agreement.version <<<"$OUT")" "0 3" "chofu proposes version 3 of the ended agreement"
as "$ITABASHI_ADMIN" agreement reject --tenant itabashi --id "$ID" --version 3 --note "予算なし"
expect_eq "$RC $(jq -r '.agreement.state + " " + .agreement.decisionNote' <<<"$OUT")" "0 AGREEMENT_STATE_REJECTED 予算なし" \
	"itabashi rejects it with a note"
hold 1 k-rejected
expect_eq "$STATUS:$REASON" 403:BOOKING_ERROR_NOT_ELIGIBLE "a rejected proposal has no effect"
as "$ITABASHI_ADMIN" agreement approve --tenant itabashi --id "$ID" --version 3
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 failed_precondition" "the refusal is final"
as "$ITABASHI_ADMIN" agreement list --tenant itabashi --state rejected,ended
expect_eq "$(jq -r '[.agreements[] | (.version | tostring) + ":" + .state] | join(" ")' <<<"$OUT")" \
	"3:AGREEMENT_STATE_REJECTED 2:AGREEMENT_STATE_ENDED" "list --state rejected,ended"

# --- 7. bad input names the field and changes nothing -----------------------------------------------
before=$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_agreement_version")
propose() { # propose HOME PROVIDER TERMS [MORE…]: chofu's tenant-admin proposes
	as "$CHOFU_ADMIN" agreement propose --tenant chofu --home "$1" --provider "$2" --service facility_booking \
		--terms "$3" "${@:4}"
}
propose itabashi chofu '{"partner_area": {"fee": "cheap"}}' --valid-from 2024-04-01
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 invalid_argument" "an unknown fee is refused"
expect_match "$(jq -r .message <<<"$OUT")" 'agreement\.terms\[0\]\.feeBasis: unknown value' "naming the field"
propose itabashi chofu '{"partner_area": {"booking_window_days": 9999}}' --valid-from 2024-04-01
expect_match "$(jq -r .message <<<"$OUT")" '\$\.terms\.partner_area\.booking_window_days' "a window out of range names the field"
propose itabashi chofu "$TERMS_V1"
expect_match "$(jq -r .message <<<"$OUT")" '\$\.valid_from: required' "a missing start date names the field"
propose itabashi chofu "$TERMS_V1" --valid-from 2024-02-30
expect_match "$(jq -r .message <<<"$OUT")" '\$\.valid_from' "an impossible date names the field"
propose chofu chofu "$TERMS_V1" --valid-from 2024-04-01
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 invalid_argument" "an agreement with oneself is refused"
expect_match "$(jq -r .message <<<"$OUT")" '^agreement\.home: is the provider itself' "naming the field"
propose nowhere chofu "$TERMS_V1" --valid-from 2024-04-01
expect_eq "$RC $(jq -r .message <<<"$OUT")" "1 agreement.home: no tenant \"nowhere\"" "an unknown tenant is NOT_FOUND naming the field"
propose itabashi komae "$TERMS_V1" --valid-from 2024-04-01
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 permission_denied" "chofu cannot propose an agreement between two other cities"
as "$CHOFU_ADMIN" agreement propose --tenant chofu --home itabashi --provider chofu --service parking \
	--valid-from 2024-04-01 --terms "$TERMS_V1"
expect_eq "$RC $(jq -r .code <<<"$OUT")" "1 invalid_argument" "an unknown service is refused"
as "$CHOFU_ADMIN" agreement approve --tenant chofu --id x1 --version 1
expect_eq "$(jq -r .message <<<"$OUT")" "agreement_id: required, the decimal id of an agreement" "a malformed id names the field"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_agreement_version")" "$before" "none of them stored anything"
FILE_ID=$(sql "$RENKEI_PG" "SELECT a.id FROM rk_agreement a JOIN rk_tenant t ON t.id = a.tenant_id WHERE t.slug = 'chofu' AND a.origin = 'file' LIMIT 1")
as "$CHOFU_ADMIN" agreement end --tenant chofu --id "$FILE_ID"
expect_match "$RC $(jq -r .message <<<"$OUT")" '^1 agreement_id: agreement [0-9]+ is declared in tenants/chofu.json' \
	"a file-declared agreement is changed in its file, not here"
as "$CHOFU_ADMIN" agreement show --tenant chofu --id "$FILE_ID"
expect_eq "$(jq -r '.agreement.state + " " + .agreement.proposedBy.slug' <<<"$OUT")" "AGREEMENT_STATE_ACTIVE chofu" \
	"and shows as ACTIVE, declared by its provider"

hub_stop
HUB_PID=$HUB2_PID hub_stop
EXTRA_PIDS=()
sim_stop chofu
