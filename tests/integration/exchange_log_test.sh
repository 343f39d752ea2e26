# exchange_log_test.sh — the exchange log and signed receipts with renkeid on the test PostgreSQL
# and a local RFC 3161 TSA (tests/lib/tsa.sh: `openssl ts` behind a small HTTP server).
# Cross-city transactions are recorded the way the brokers record them — rk_exchange_record()
# inside the change's own transaction, here through psql — and then checked as the two cities
# would: GetReceipt over Connect JSON, `renkeictl receipt verify` (and npm jose when present)
# offline against the JWKS, one changed byte refused; staff of either party only; the log
# refuses UPDATE/DELETE/TRUNCATE even from a role granted them; `renkeictl log verify` names
# an entry changed behind the trigger's back; with the TSA down past the gap recording fails
# closed while reads go on, and resumes when it is back; a receipt recorded while no hub ran is
# signed when one starts.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/tsa.sh"

GAP_MS=2500
export RENKEI_PG
RENKEI_PG=$(fresh_db exchange_log_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
tsa_make "$WORK/tsa"
tsa_start "$WORK/tsa"
trap 'tsa_stop; cleanup' EXIT
export RENKEI_EXCHANGE_TSA_URL=$TSA_URL RENKEI_EXCHANGE_TSA_CA=$WORK/tsa/ca.pem
export RENKEI_EXCHANGE_ANCHOR_INTERVAL_MS=300 RENKEI_EXCHANGE_ANCHOR_MAX_GAP_MS=$GAP_MS
hub_start
export RENKEI_HUB=$HUB_URL
CTL=$RENKEI_BIN_DIR/renkeictl

CHOFU=$(sql "$RENKEI_PG" "SELECT id FROM rk_tenant WHERE slug = 'chofu'")
KODAIRA=$(sql "$RENKEI_PG" "SELECT id FROM rk_tenant WHERE slug = 'kodaira'")
# record KIND BOOKING FEE: what the booking broker does at a transition, in one transaction with
# its own change; prints the receipt id (psql's errors go to $WORK/record.err).
record() {
	psql -X -At -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -d "$RENKEI_PG" 2>"$WORK/record.err" <<SQL | grep '^rc_'
BEGIN;
SELECT rk_exchange_record('$1', $CHOFU, $KODAIRA, 'pw-kodaira-resident',
    '{"type": "booking", "id": "$2"}',
    '{"start": "2026-12-01T10:00:00+09:00", "end": "2026-12-01T12:00:00+09:00"}',
    '{"fee": $3}', NULL, NULL);
COMMIT;
SQL
}
connect() { # connect TOKEN METHOD JSON: ExchangeService over Connect JSON
	curl -s -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3" \
		"$HUB_URL/renkei.v1.ExchangeService/$2"
}
admin() { connect "$RENKEI_ADMIN_TOKEN" "$@"; }

# --- entries written before migration 0024 and after it -----------------------------------------
# 0024 writes an entry's canonical JSON by concatenation instead of rk_canonical_json(). Here the
# functions of migration 0013 (what wrote every chain begun before 0024) record five
# transactions between 狛江市 and 清瀬市 — strings full of what JSON escapes and what it does not —
# then 0024 is applied again and records the same five: each new entry must be the old one byte
# for byte but for its receipt id, time of recording, sequence and previous hash, and both
# chains, old entries first, must verify.
KOMAE=$(sql "$RENKEI_PG" "SELECT id FROM rk_tenant WHERE slug = 'komae'")
KIYOSE=$(sql "$RENKEI_PG" "SELECT id FROM rk_tenant WHERE slug = 'kiyose'")
MIGRATIONS=$RENKEI_SOURCE_DIR/hub/store/migrations
cat >"$WORK/five.sql" <<'SQL'
SELECT rk_exchange_record('booking_confirmed', :komae, :kiyose, 'pw-kiyose-resident',
    jsonb_build_object('type', 'booking', 'id', 'bk_"q\/' || chr(1) || chr(8) || chr(9) || chr(10)
        || chr(12) || chr(13) || chr(31) || chr(127) || chr(8232) || chr(8233) || chr(65279)
        || 'é日本😀'),
    '{"start": "2026-12-01T10:00:00+09:00", "end": "2026-12-01T12:00:00+09:00"}', '{"fee": 2400}',
    7, 2);
SELECT rk_exchange_record('booking_cancelled', :komae, :kiyose, 'pw-kiyose-resident',
    jsonb_build_object('type', '</script>' || chr(8232), 'id', 'bk_2'),
    '{"start": "2026-12-01T10:00:00.123456+09:00", "end": "2026-12-02T00:00:00Z"}', '{}', NULL, NULL);
SELECT rk_exchange_record('hold_placed', :komae, :kiyose, 'pw', '{"type": "hold", "id": "hd_清瀬"}',
    NULL, NULL, 3, 1);
SELECT rk_exchange_record('loan_returned', :komae, :kiyose, 'pw', '{"type": "loan", "id": "ln_1"}',
    NULL, '{"fee": -15}', NULL, NULL);
SELECT rk_exchange_record_read(:komae, :kiyose,
    jsonb_build_object('type', 'booking', 'id', 'bk_' || chr(127) || chr(27)),
    '目的 "purpose" \ ' || chr(10) || chr(8232), 'staff:' || chr(31) || 'x/y');
SQL
five() { psql -X -q -At -v ON_ERROR_STOP=1 -v komae="$KOMAE" -v kiyose="$KIYOSE" -d "$RENKEI_PG" "$@" >/dev/null; }
for f in rk_exchange_append rk_exchange_record rk_exchange_record_read; do
	sed -n '/^CREATE FUNCTION '"$f"'(/,/^\$\$;/p' "$MIGRATIONS/0013_exchange_log.sql"
done | sed 's/^CREATE FUNCTION/CREATE OR REPLACE FUNCTION/' >"$WORK/0013_functions.sql"
expect_eq "$(grep -c '^CREATE OR REPLACE FUNCTION' "$WORK/0013_functions.sql")" 3 "migration 0013's three writing functions, as released"
{
	echo 'BEGIN;'
	cat "$WORK/0013_functions.sql" "$WORK/five.sql"
	echo 'COMMIT;'
} | five || fail "recording with the functions of migration 0013 failed"
psql -X -q -v ON_ERROR_STOP=1 -d "$RENKEI_PG" -1 -f "$MIGRATIONS"/*_exchange_entry_text.sql >/dev/null ||
	fail "applying the exchange_entry_text migration again failed"
five -f "$WORK/five.sql" || fail "recording with the functions of migration 0024 failed"
unvarying="'\"(previous_hash|receipt_id|recorded_at)\":\"[^\"]*\"|\"sequence\":[0-9]+', '', 'g'"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_exchange_log o JOIN rk_exchange_log n
	ON n.tenant_id = o.tenant_id AND n.sequence = o.sequence + 5
	WHERE o.tenant_id IN ($KOMAE, $KIYOSE) AND o.sequence <= 5
	  AND regexp_replace(o.canonical_json, $unvarying) = regexp_replace(n.canonical_json, $unvarying)")" 10 \
	"the five transactions' entries in both chains are byte for byte those of migration 0013"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_exchange_receipt o JOIN rk_exchange_receipt n
	ON n.provider_tenant_id = o.provider_tenant_id AND n.receipt_number = o.receipt_number + 4
	WHERE o.provider_tenant_id = $KOMAE AND o.receipt_number <= 4
	  AND o.body - '{receipt_id,issued_at,log_sequence}'::text[] = n.body - '{receipt_id,issued_at,log_sequence}'::text[]")" 4 \
	"and their receipts hold the same content"
expect_eq "$(sql "$RENKEI_PG" "SELECT canonical_json::jsonb #>> '{resource,id}' = 'bk_\"q\\/' || chr(1) || chr(8) || chr(9)
	|| chr(10) || chr(12) || chr(13) || chr(31) || chr(127) || chr(8232) || chr(8233) || chr(65279) || 'é日本😀'
	FROM rk_exchange_log WHERE tenant_id = $KOMAE AND sequence = 6")" t \
	"an entry holds the resource id as given, every character"
for _ in $(seq 1 50); do
	[[ $(sql "$RENKEI_PG" "SELECT bool_and(anchored_sequence = head_sequence) FROM rk_exchange_chain WHERE tenant_id IN ($KOMAE, $KIYOSE)") == t ]] && break
	sleep 0.1
done
for slug in komae kiyose; do
	out=$("$CTL" log verify --tenant "$slug") || fail "log verify refused $slug's chain across migration 0024: $out"
	expect_match "$out" "intact: 10 entries checked" "$slug's chain verifies, 5 entries of 0013's functions then 5 of 0024's"
done
OLD_RECEIPT=$(sql "$RENKEI_PG" "SELECT id FROM rk_exchange_receipt WHERE provider_tenant_id = $KOMAE AND receipt_number = 1")
NEW_RECEIPT=$(sql "$RENKEI_PG" "SELECT id FROM rk_exchange_receipt WHERE provider_tenant_id = $KOMAE AND receipt_number = 5")
for receipt in "$OLD_RECEIPT" "$NEW_RECEIPT"; do
	admin GetReceipt "{\"tenant\": \"komae\", \"receiptId\": \"$receipt\"}" >"$WORK/receipt.json"
	out=$("$CTL" receipt verify "$WORK/receipt.json") || fail "receipt $receipt does not verify: $out"
done
pass "a receipt recorded by 0013's functions and one by 0024's verify (renkeictl receipt verify)"

# --- receipts ---------------------------------------------------------------------------------
R1=$(record booking_confirmed bk_00000000000000000000000000000001 2400)
R2=$(record booking_cancelled bk_00000000000000000000000000000001 0)
expect_match "$R1 $R2" '^rc_[0-9a-f]{32} rc_[0-9a-f]{32}$' "rk_exchange_record returns receipt ids"
admin GetReceipt "{\"tenant\": \"kodaira\", \"receiptId\": \"$R1\"}" >"$WORK/r1.json"
admin GetReceipt "{\"tenant\": \"chofu\", \"receiptId\": \"$R2\"}" >"$WORK/r2.json"
expect_eq "$(jq -r '.receipt.kind + " " + .receipt.provider.slug + " " + .receipt.home.slug + " " + .receipt.amount.amount' "$WORK/r1.json")" \
	"EXCHANGE_KIND_BOOKING_CONFIRMED chofu kodaira 2400" "GetReceipt answers the home city the decoded receipt"
expect_eq "$(jq -r .jwksUri "$WORK/r1.json")" "$HUB_URL/t/chofu/jwks" "signed by the providing realm's key"
expect_eq "$(jq -r .receipt.previousReceiptHash "$WORK/r2.json")" \
	"$(jq -j .receipt.jws "$WORK/r1.json" | sha256sum | cut -d' ' -f1)" \
	"the second receipt holds the hash of the first one's JWS"
expect_eq "$(jq -r .receipt.payloadJson "$WORK/r1.json")" \
	"$(jq -r .receipt.jws "$WORK/r1.json" | cut -d. -f2 | tr '_-' '/+' | base64 -d 2>/dev/null)" \
	"payloadJson is exactly the signed payload"

out=$("$CTL" receipt verify "$WORK/r1.json") || fail "renkeictl receipt verify refused a good receipt: $out"
expect_match "$out" "receipt $R1 verifies" "renkeictl receipt verify accepts it against the hub's JWKS"
expect_match "$out" "resource: +booking bk_0+1" "and prints the transaction"
jq -r .receipt.jws "$WORK/r1.json" >"$WORK/r1.jws"
curl -s "$HUB_URL/t/chofu/jwks" >"$WORK/chofu-jwks.json"
"$CTL" receipt verify "$WORK/r1.jws" --jwks "$WORK/chofu-jwks.json" >/dev/null ||
	fail "a bare JWS with the JWKS as a file does not verify"
pass "offline: a bare JWS against a JWKS file"
jws=$(cat "$WORK/r1.jws")
payload_part=$(cut -d. -f2 <<<"$jws")
i=$((${#payload_part} / 2))
flipped=$([[ ${payload_part:$i:1} == A ]] && echo B || echo A)
tampered="$(cut -d. -f1 <<<"$jws").${payload_part:0:$i}$flipped${payload_part:$((i + 1))}.$(cut -d. -f3 <<<"$jws")"
printf '%s\n' "$tampered" >"$WORK/tampered.jws"
if "$CTL" receipt verify "$WORK/tampered.jws" --jwks "$WORK/chofu-jwks.json" 2>"$WORK/err"; then
	fail "a receipt with one changed byte verified"
fi
expect_match "$(cat "$WORK/err")" "does not verify" "one changed byte: renkeictl refuses it"
"$CTL" receipt verify "$WORK/r1.jws" --jwks "$HUB_URL/t/kodaira/jwks" 2>/dev/null &&
	fail "a receipt verified with another realm's keys"
pass "another realm's JWKS does not verify it"

JOSE=$RENKEI_SOURCE_DIR/tests/e2e/node_modules/jose
if command -v node >/dev/null && [[ -d $JOSE ]]; then
	jose_verify() { # jose_verify JWS: the payload's receipt_id, or "refused"
		(cd "$RENKEI_SOURCE_DIR/tests/e2e" && JWS=$1 JWKS=$WORK/chofu-jwks.json node --input-type=module -e "
			import * as jose from 'jose';
			import { readFileSync } from 'node:fs';
			const keys = jose.createLocalJWKSet(JSON.parse(readFileSync(process.env.JWKS, 'utf8')));
			try {
				const r = await jose.compactVerify(process.env.JWS, keys, { algorithms: ['ES256'] });
				console.log(JSON.parse(new TextDecoder().decode(r.payload)).receipt_id);
			} catch { console.log('refused'); }")
	}
	expect_eq "$(jose_verify "$jws")" "$R1" "npm jose verifies the receipt against the JWKS"
	expect_eq "$(jose_verify "$tampered")" refused "and refuses it after one byte changed"
else
	echo "# npm jose not installed under tests/e2e: the stock-library check is skipped"
fi

# --- who may read -----------------------------------------------------------------------------
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"
staff() { # staff SLUG USERNAME ROLE: an access token of a staff member with ROLE
	curl -s "${ADMIN[@]}" -d "{\"username\": \"$2\", \"password\": \"$PASSWORD\", \"staff_roles\": [\"$3\"]}" \
		"$HUB_URL/admin/v1/realms/$1/users" >/dev/null
	local console
	console=$(curl -s "${ADMIN[@]}" -d "{\"name\": \"console\", \"grant_types\": [\"authorization_code\"],
		\"redirect_uris\": [\"$REDIRECT\"], \"scopes\": [\"openid\", \"admin\"], \"first_party\": true}" \
		"$HUB_URL/admin/v1/realms/$1/clients" | jq -r '.client_id + " " + .client_secret')
	resident_token "$1" "$2" "openid admin" "$console"
}
KODAIRA_AUDITOR=$(staff kodaira kodaira-auditor auditor)
KOMAE_ADMIN=$(staff komae komae-admin tenant-admin)
expect_eq "$(connect "$KODAIRA_AUDITOR" GetReceipt "{\"tenant\": \"kodaira\", \"receiptId\": \"$R1\"}" | jq -r .receipt.receiptId)" \
	"$R1" "an auditor of the home city reads the receipt"
expect_eq "$(connect "$KOMAE_ADMIN" GetReceipt "{\"tenant\": \"komae\", \"receiptId\": \"$R1\"}" | jq -r .code)" \
	not_found "a third city's tenant-admin does not find it"
expect_eq "$(connect "$KOMAE_ADMIN" GetReceipt "{\"tenant\": \"kodaira\", \"receiptId\": \"$R1\"}" | jq -r .code)" \
	permission_denied "nor reaches it by naming a party"
expect_eq "$(connect "$KOMAE_ADMIN" VerifyLogChain '{"tenant": "chofu"}' | jq -r .code)" \
	permission_denied "nor another city's log"
expect_eq "$(connect "$KODAIRA_AUDITOR" ListExchangeLog '{"tenant": "kodaira"}' | jq -r '[.entries[].kind] | join(" ")')" \
	"EXCHANGE_KIND_BOOKING_CONFIRMED EXCHANGE_KIND_BOOKING_CANCELLED" "the home city's chain records both transactions"
sql "$RENKEI_PG" "SELECT rk_exchange_record_read($CHOFU, $KODAIRA, '{\"type\": \"booking\", \"id\": \"bk_00000000000000000000000000000001\"}', '利用者への連絡 (contacting the user)', 'staff:chofu-clerk')" >/dev/null
expect_eq "$(connect "$KODAIRA_AUDITOR" ListExchangeLog '{"tenant": "kodaira", "kinds": ["EXCHANGE_KIND_PERSONAL_DATA_READ"]}' | jq -r '.entries[] | .provider.code + " " + .actor + " " + .purpose')" \
	"132080 staff:chofu-clerk 利用者への連絡 (contacting the user)" \
	"a cross-city read of personal data is in the home city's log with its purpose"
expect_match "$(sql "$RENKEI_PG" "SELECT rk_exchange_record_read($CHOFU, $KODAIRA, '{\"type\": \"booking\", \"id\": \"x\"}', ' ', 'staff:x')" 2>&1 || true)" \
	"purpose: the purpose of use" "a read without a purpose is refused naming it"
expect_eq "$(admin GetReceipt '{"tenant": "kodaira", "receiptId": "rc_x"}' | jq -r .message)" \
	'receipt_id: required, "rc_" and 32 lower-case hex digits' "a malformed receipt id is refused naming the field"

# --- append-only ------------------------------------------------------------------------------
ROLE=exchange_test_$$
psql -X -q -d "$RENKEI_PG" -c "CREATE ROLE $ROLE NOSUPERUSER LOGIN" \
	-c "GRANT ALL ON rk_exchange_log, rk_exchange_checkpoint, rk_exchange_receipt TO $ROLE"
trap 'psql -X -q -d "$RENKEI_PG" -c "DROP OWNED BY $ROLE" -c "DROP ROLE IF EXISTS $ROLE" 2>/dev/null; tsa_stop; cleanup' EXIT
as_role() { psql -X -At -d "$RENKEI_PG" -c "SET ROLE $ROLE" -c "$1" 2>&1 || true; }
expect_match "$(as_role "UPDATE rk_exchange_log SET kind = 'x'")" "append-only: UPDATE refused" \
	"a role granted UPDATE (not a superuser) cannot change the log"
expect_match "$(as_role "DELETE FROM rk_exchange_log")" "append-only: DELETE refused" "nor delete from it"
expect_match "$(as_role "TRUNCATE rk_exchange_log")" "append-only: TRUNCATE refused" "nor truncate it"
expect_match "$(as_role "UPDATE rk_exchange_receipt SET jws = 'x'")" "signed once" \
	"nor re-sign a receipt"
expect_match "$(sql "$RENKEI_PG" "UPDATE rk_exchange_log SET kind = 'x'" 2>&1 || true)" \
	"append-only: UPDATE refused" "the trigger refuses the hub's own role too"

# --- the chain and its checkpoints -----------------------------------------------------------
R3=$(record booking_confirmed bk_00000000000000000000000000000003 1800)
[[ -n $R3 ]] || fail "recording a third transaction failed: $(cat "$WORK/record.err")"
# eight more: entries 10 to 12 come before 2 when sorted as text, as they once were
for n in 5 6 7 8 9 10 11 12; do
	[[ -n $(record booking_confirmed "bk_000000000000000000000000000000$((n + 10))" 1800) ]] ||
		fail "recording transaction $n failed: $(cat "$WORK/record.err")"
done
for _ in $(seq 1 50); do
	[[ $(sql "$RENKEI_PG" "SELECT anchored_sequence = head_sequence FROM rk_exchange_chain WHERE tenant_id = $CHOFU") == t ]] && break
	sleep 0.1
done
out=$("$CTL" log verify --tenant chofu) || fail "log verify refused the intact chain: $out"
expect_match "$out" "intact: 12 entries checked" "renkeictl log verify accepts the intact chain of 12 entries"
expect_match "$out" "checkpoints verified: [1-9]" "and re-verifies the TSA's checkpoints"
psql -X -q -d "$RENKEI_PG" -v ON_ERROR_STOP=1 \
	-c "ALTER TABLE rk_exchange_log DISABLE TRIGGER rk_exchange_log_append_only" \
	-c "UPDATE rk_exchange_log SET canonical_json = replace(canonical_json, '\"fee\":0', '\"fee\":1') WHERE tenant_id = $CHOFU AND sequence = 2" \
	-c "ALTER TABLE rk_exchange_log ENABLE TRIGGER rk_exchange_log_append_only"
status=0
out=$("$CTL" log verify --tenant chofu 2>/dev/null) || status=$?
expect_eq "$status" 1 "after one entry was changed behind the trigger, log verify fails"
expect_match "$out" "BROKEN at entry 2: entry_hash is not the SHA-256" "naming exactly that entry"
expect_eq "$(admin VerifyLogChain '{"tenant": "132110"}' | jq -r '.intact|tostring')" true \
	"the home city's own chain is untouched"

# --- fail closed ------------------------------------------------------------------------------
tsa_stop
R4=$(record booking_confirmed bk_00000000000000000000000000000004 1200)
[[ -n $R4 ]] || fail "recording right after the TSA went away failed: $(cat "$WORK/record.err")"
sleep $((GAP_MS / 1000 + 1))
R5=$(record booking_confirmed bk_00000000000000000000000000000005 1200) || true
expect_eq "$R5" "" "with the TSA down past the gap, rk_exchange_record refuses"
expect_match "$(cat "$WORK/record.err")" "RKA01.*anchoring overdue" "with SQLSTATE RKA01 and a clear reason"
expect_eq "$(admin GetReceipt "{\"tenant\": \"chofu\", \"receiptId\": \"$R4\"}" | jq -r .receipt.receiptId)" \
	"$R4" "reads continue: GetReceipt"
expect_eq "$(admin VerifyLogChain '{"tenant": "kodaira"}' | jq -r .anchoringOverdue)" true \
	"VerifyLogChain reports that anchoring is overdue"
tsa_start "$WORK/tsa" "$TSA_PORT"
for _ in $(seq 1 50); do
	R6=$(record booking_confirmed bk_00000000000000000000000000000006 1200) || true
	[[ -n $R6 ]] && break
	sleep 0.2
done
expect_match "$R6" '^rc_' "with the TSA back, recording works again"

# --- every entry and receipt payload this test stored is the generic canonical form -------------
expect_match "$(sql "$RENKEI_PG" "SELECT count(*) FILTER (WHERE canonical_json <> rk_canonical_json(canonical_json::jsonb)) || ' of ' || count(*) FROM rk_exchange_log")" \
	'^0 of [1-9][0-9]+$' "every log entry is byte for byte rk_canonical_json() of its own content"
expect_match "$(sql "$RENKEI_PG" "SELECT count(*) FILTER (WHERE payload_json <> rk_canonical_json(payload_json::jsonb)) || ' of ' || count(payload_json) FROM rk_exchange_receipt")" \
	'^0 of [1-9][0-9]+$' "and every signed receipt payload"
expect_match "$(sql "$RENKEI_PG" "SELECT count(*) FILTER (WHERE payload_json IS DISTINCT FROM rk_exchange_receipt_payload(body,
	payload_json::jsonb ->> 'iss', payload_json::jsonb ->> 'previous_receipt_hash')) || ' of ' || count(*) FROM rk_exchange_receipt WHERE jws IS NOT NULL")" \
	'^0 of [1-9][0-9]+$' "each payload written by concatenation (migration 0029), not by the generic fallback"

# --- signing survives a restart ---------------------------------------------------------------
hub_stop
R7=$(record booking_confirmed bk_00000000000000000000000000000007 1500)
expect_eq "$(sql "$RENKEI_PG" "SELECT jws IS NULL FROM rk_exchange_receipt WHERE id = '$R7'")" t \
	"a receipt recorded while no hub runs waits unsigned"
hub_start
export RENKEI_HUB=$HUB_URL
for _ in $(seq 1 50); do
	[[ $(sql "$RENKEI_PG" "SELECT jws IS NOT NULL FROM rk_exchange_receipt WHERE id = '$R7'") == t ]] && break
	sleep 0.1
done
expect_eq "$(sql "$RENKEI_PG" "SELECT jws IS NOT NULL FROM rk_exchange_receipt WHERE id = '$R7'")" t \
	"the hub signs it at start, without being asked"
admin GetReceipt "{\"tenant\": \"chofu\", \"receiptId\": \"$R7\"}" >"$WORK/r7.json"
"$CTL" receipt verify "$WORK/r7.json" >/dev/null || fail "the receipt signed after the restart does not verify"
pass "and it verifies"
hub_stop
