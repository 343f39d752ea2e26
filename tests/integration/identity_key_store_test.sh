# identity_key_store_test.sh — realm signing keys in the real PostgreSQL of tests/run, through
# renkeid as an operator runs it: the master key is required and checked; each realm gets an
# active and a next key at start, stored with the private key sealed; a restart reuses them
# and a wrong master key stops start-up; rotation publishes the next key before it signs,
# keeps the retired key verifying, is seen by a second hub on the same database, and works
# for RS256 chains too (generated off the event loop).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_key_store_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_IDENTITY_REFRESH_MS=200
# Hubs behind one address: the issuer stays the same across restarts and hubs.
export RENKEI_PUBLIC_URL=https://renkei.test
ADMIN=(-H "Authorization: Bearer $RENKEI_ADMIN_TOKEN")
GOOD_KEY=$RENKEI_MASTER_KEY

# --- the master key is required and must be 32 bytes ---------------------------------------
start_refused() { # start_refused WHAT EXPECTED-REGEX: renkeid must exit 1 naming the problem
	local status=0
	"$RENKEI_BIN_DIR/renkeid" >"$HUB_LOG" 2>&1 || status=$?
	expect_eq "$status" 1 "$1: start-up refused"
	expect_match "$(grep '"cannot start"' "$HUB_LOG")" "$2" "$1: the message names the problem"
}
RENKEI_MASTER_KEY= start_refused "no master key" \
	'identity\.master_key \(RENKEI_MASTER_KEY\): is required'
RENKEI_MASTER_KEY=${GOOD_KEY:0:62} start_refused "62 hex digits" \
	'identity\.master_key \(RENKEI_MASTER_KEY\): must be 32 bytes: as hex it needs exactly 64'
RENKEI_MASTER_KEY=$(openssl rand -base64 31) start_refused "base64 of 31 bytes" \
	'identity\.master_key \(RENKEI_MASTER_KEY\): must be 32 bytes written as 64 hex'
RENKEI_SIGNING_ALGS=ES256,HS256 start_refused "an unknown algorithm" \
	'identity\.signing_algs \(RENKEI_SIGNING_ALGS\): must be ES256, RS256 or both'
if grep -q "${GOOD_KEY:0:62}" "$HUB_LOG"; then
	fail "a master key appears in the log"
fi
status=0
RENKEI_MASTER_KEY=${GOOD_KEY:0:62} "$RENKEI_BIN_DIR/renkeid" --check-config >"$HUB_LOG" 2>&1 || status=$?
expect_eq "$status" 1 "--check-config refuses a bad master key too"
expect_match "$(cat "$HUB_LOG")" 'identity\.master_key' "naming the setting"

# --- keys at start ---------------------------------------------------------------------------
hub_start
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_key")" 16 \
	"eight realms, an active and a next ES256 key each"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(DISTINCT tenant_id) FROM rk_identity_key
	WHERE state = 'active' AND activated_at IS NOT NULL")" 8 "one active key per realm"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_key
	WHERE public_jwk ?| ARRAY['d', 'p', 'q'] OR NOT public_jwk ?& ARRAY['kid', 'alg', 'use']")" 0 \
	"public JWKs hold no private member, and carry kid, alg and use"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_key
	WHERE position(convert_to('\"d\"', 'UTF8') IN private_sealed) > 0
	   OR position(convert_to('kty', 'UTF8') IN private_sealed) > 0
	   OR position(convert_to(public_jwk->>'x', 'UTF8') IN private_sealed) > 0")" 0 \
	"the private JWK text does not appear in the stored row"
kodaira_keys() { sql "$RENKEI_PG" "SELECT string_agg(k.state || '=' || k.kid, ' ' ORDER BY k.state)
	FROM rk_identity_key k JOIN rk_tenant t ON t.id = k.tenant_id WHERE t.slug = 'kodaira'
	AND k.alg = '$1' AND k.state <> 'retired'"; }
before=$(kodaira_keys ES256)
active=$(sed -E 's/.*active=([^ ]+).*/\1/' <<<"$before")
next=$(sed -E 's/.*next=([^ ]+).*/\1/' <<<"$before")
jwks=$(curl -s "$HUB_URL/t/kodaira/jwks")
expect_eq "$(jq -r '[.keys[].kid] | sort | join(" ")' <<<"$jwks")" \
	"$(tr ' ' '\n' <<<"$active $next" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the JWKS publishes the active and the next key"
expect_eq "$(jq '[.keys[] | select(has("d"))] | length' <<<"$jwks")" 0 "no private part published"
expect_eq "$(jq -r '[.keys[] | .kty + "/" + .crv + "/" + .alg + "/" + .use] | unique | join(",")' <<<"$jwks")" \
	"EC/P-256/ES256/sig" "P-256 keys for ES256 signatures"
expect_match "$(curl -s -D - -o /dev/null "$HUB_URL/t/kodaira/jwks")" \
	$'cache-control: public, max-age=300\r' "the JWKS may be cached briefly"

# A client to get tokens with.
client=$(curl -s "${ADMIN[@]}" -d '{"name": "rotation test", "scopes": ["library.read"]}' \
	"$HUB_URL/admin/v1/realms/kodaira/clients")
CID=$(jq -r .client_id <<<"$client")
CSECRET=$(jq -r .client_secret <<<"$client")
token() { curl -s -u "$CID:$CSECRET" -d grant_type=client_credentials "$HUB_URL/t/kodaira/token" |
	jq -r .access_token; }
# header_of TOKEN: the decoded JSON header of a JWT.
header_of() {
	local part
	part=$(cut -d. -f1 <<<"$1" | tr '_-' '/+')
	while ((${#part} % 4)); do part+='='; done
	base64 -d <<<"$part"
}
kid_of() { header_of "$1" | jq -r .kid; }
introspect() { curl -s -u "$CID:$CSECRET" --data-urlencode "token=$1" "$HUB_URL/t/kodaira/introspect" |
	jq -r .active; }
old_token=$(token)
expect_eq "$(kid_of "$old_token")" "$active" "tokens are signed by the active key"
hub_stop

# --- restart: the same keys; a wrong master key stops start-up ------------------------------
hub_start
expect_eq "$(kodaira_keys ES256)" "$before" "a restart reuses the keys"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_key")" 16 "and creates none"
expect_match "$(grep '"realm keys ready"' "$HUB_LOG")" '"keys_created":0' "the log says none were created"
expect_eq "$(introspect "$old_token")" true "a token from before the restart is still active"
hub_stop
RENKEI_MASTER_KEY=$(openssl rand -hex 32) start_refused "another master key" \
	'realm [a-z]+: key [A-Za-z0-9_-]+: it does not open with identity\.master_key \(RENKEI_MASTER_KEY\)'

# --- rotation ------------------------------------------------------------------------------
hub_start
A_PID=$HUB_PID A_URL=$HUB_URL A_LOG=$HUB_LOG
HUB_LOG=$WORK/hub-b.log
hub_start # a second hub on the same database
B_PID=$HUB_PID B_URL=$HUB_URL
HUB_PID=$A_PID HUB_URL=$A_URL HUB_LOG=$A_LOG
trap 'kill -KILL "$B_PID" 2>/dev/null || true; cleanup' EXIT

expect_eq "$(http_status "$HUB_URL/admin/v1/realms/kodaira/keys:rotate" -X POST)" 401 \
	"rotation needs the admin token"
expect_eq "$(http_status "$HUB_URL/admin/v1/realms/nowhere/keys:rotate" -X POST "${ADMIN[@]}")" 404 \
	"rotating an unknown realm is 404"
expect_eq "$(curl -s "${ADMIN[@]}" -d '{"alg": "RS256"}' "$HUB_URL/admin/v1/realms/kodaira/keys:rotate" | jq -r .message)" \
	"alg: must be one of the realm's algorithms (identity.signing_algs)" "an unconfigured algorithm is refused"
expect_eq "$(curl -s "${ADMIN[@]}" -d '{"alg": "ES256", "force": true}' "$HUB_URL/admin/v1/realms/kodaira/keys:rotate" | jq -r .message)" \
	'body: the only field is "alg"' "unknown fields are refused"
expect_eq "$(kodaira_keys ES256)" "$before" "refused rotations change nothing"

rotated=$(curl -s "${ADMIN[@]}" -X POST "$HUB_URL/admin/v1/realms/kodaira/keys:rotate")
expect_eq "$(jq -r .active <<<"$rotated")" "$next" "the next key becomes active"
expect_eq "$(jq -r '.retired | join(",")' <<<"$rotated")" "$active" "the active key is retired"
new_next=$(jq -r .next <<<"$rotated")
[[ $new_next != "$next" && $new_next != "$active" && -n $new_next ]] || fail "no new next key: $rotated"
pass "a new next key is made"
expect_eq "$(jq -r '[.keys[].kid] | sort | join(" ")' <<<"$(curl -s "$HUB_URL/t/kodaira/jwks")")" \
	"$(printf '%s\n' "$active" "$next" "$new_next" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"the JWKS publishes the new next, the active and the retired key at once"
expect_eq "$(kid_of "$(token)")" "$next" "this hub signs with the promoted key at once"
expect_eq "$(introspect "$old_token")" true "a token signed by the retired key still verifies"
expect_eq "$(sql "$RENKEI_PG" "SELECT expires_at - retired_at FROM rk_identity_key WHERE kid = '$active'")" \
	"400 days" "the retired key stays published for identity.retired_key_days (receipts it signed too)"

# The other hub follows within identity.refresh_ms (200 ms here).
for _ in $(seq 1 50); do
	[[ $(curl -s "$B_URL/t/kodaira/jwks" | jq '.keys | length') == 3 ]] && break
	sleep 0.1
done
expect_eq "$(curl -s "$B_URL/t/kodaira/jwks" | jq -r '[.keys[].kid] | sort | join(" ")')" \
	"$(printf '%s\n' "$active" "$next" "$new_next" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"a second hub on the same database publishes the new key set"
b_token=$(curl -s -u "$CID:$CSECRET" -d grant_type=client_credentials "$B_URL/t/kodaira/token" | jq -r .access_token)
expect_eq "$(kid_of "$b_token")" "$next" "and signs with the new active key"
expect_eq "$(introspect "$b_token")" true "its tokens verify at the first hub"
expect_eq "$(curl -s "$HUB_URL/t/chofu/jwks" | jq '.keys | length')" 2 "other realms are untouched"

# Two rotations at once on the two hubs serialise on the realm: both succeed, in turn.
curl -s "${ADMIN[@]}" -X POST "$HUB_URL/admin/v1/realms/kodaira/keys:rotate" >"$WORK/r1" &
r1=$!
curl -s "${ADMIN[@]}" -X POST "$B_URL/admin/v1/realms/kodaira/keys:rotate" >"$WORK/r2" &
wait "$r1" $!
expect_eq "$(jq -r '.active != null' "$WORK/r1" "$WORK/r2" | tr '\n' ' ')" "true true " \
	"concurrent rotations both complete"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FILTER (WHERE state = 'active') || '/' ||
	count(*) FILTER (WHERE state = 'next') FROM rk_identity_key k JOIN rk_tenant t ON t.id = k.tenant_id
	WHERE t.slug = 'kodaira'")" "1/1" "and leave one active and one next key"
kill -TERM "$B_PID"
status=0
wait "$B_PID" || status=$?
expect_eq "$status" 0 "the second hub exits 0 on SIGTERM"
trap cleanup EXIT
hub_stop

# --- RS256 chains ----------------------------------------------------------------------------
export RENKEI_SIGNING_ALGS=ES256,RS256
hub_start
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_key WHERE alg = 'RS256'")" 16 \
	"RS256 keys are added for every realm when configured"
expect_eq "$(curl -s "$HUB_URL/t/kodaira/jwks" | jq -r '[.keys[] | select(.alg == "RS256") | .kty] | unique | join(",")')" \
	"RSA" "the JWKS publishes the RSA keys"
rs_before=$(kodaira_keys RS256)
rs_next=$(sed -E 's/.*next=([^ ]+).*/\1/' <<<"$rs_before")
rs_client=$(curl -s "${ADMIN[@]}" -d '{"name": "rs", "scopes": [], "signing_alg": "RS256"}' \
	"$HUB_URL/admin/v1/realms/kodaira/clients")
expect_eq "$(jq -r .signing_alg <<<"$rs_client")" RS256 "a client may ask for RS256"
rs_token=$(curl -s -u "$(jq -r .client_id <<<"$rs_client"):$(jq -r .client_secret <<<"$rs_client")" \
	-d grant_type=client_credentials "$HUB_URL/t/kodaira/token" | jq -r .access_token)
expect_eq "$(header_of "$rs_token" | jq -r .alg)" RS256 \
	"its tokens are RS256"
expect_eq "$(introspect "$rs_token")" true "and verify"
rotated=$(curl -s "${ADMIN[@]}" -d '{"alg": "RS256"}' "$HUB_URL/admin/v1/realms/kodaira/keys:rotate")
expect_eq "$(jq -r .active <<<"$rotated")" "$rs_next" "an RS256 rotation (key made off the loop)"
expect_eq "$(curl -s "$HUB_URL/healthz")" '{"status":"ok"}' "the hub answers after it"
hub_stop
