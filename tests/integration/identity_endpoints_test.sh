# identity_endpoints_test.sh — the OAuth endpoints of renkeid against the real PostgreSQL of
# tests/run: discovery per realm, client registration through the admin API, the token
# endpoint (client_credentials with client_secret_basic and client_secret_post, and every
# error of RFC 6749 §5.2 this slice can give), introspection (RFC 7662) including tokens of
# another realm, HTTP/2, and that no secret or token reaches the log.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_endpoints_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
ADMIN=(-H "Authorization: Bearer $RENKEI_ADMIN_TOKEN")
hub_start
K=$HUB_URL/t/kodaira

# jwt_part N TOKEN: the decoded JSON of a JWT's header (1) or payload (2).
jwt_part() {
	local part
	part=$(cut -d. -f"$1" <<<"$2" | tr '_-' '/+')
	while ((${#part} % 4)); do part+='='; done
	base64 -d <<<"$part"
}

# --- discovery ---------------------------------------------------------------------------------
disco=$(curl -s "$K/.well-known/openid-configuration")
expect_eq "$(jq -r .issuer <<<"$disco")" "$K" "issuer is {public_url}/t/{slug}"
expect_eq "$(jq -r '[.jwks_uri, .token_endpoint, .introspection_endpoint, .authorization_endpoint, .userinfo_endpoint, .revocation_endpoint] | join(" ")' <<<"$disco")" \
	"$K/jwks $K/token $K/introspect $K/authorize $K/userinfo $K/revoke" "endpoints are the realm's own"
expect_eq "$(jq -c .grant_types_supported <<<"$disco")" \
	'["authorization_code","refresh_token","client_credentials"]' "the grants that work are listed"
expect_eq "$(jq -c .token_endpoint_auth_methods_supported <<<"$disco")" \
	'["client_secret_basic","client_secret_post","private_key_jwt","none"]' "client authentication methods"
expect_eq "$(jq -c '[.registration_endpoint, .token_endpoint_auth_signing_alg_values_supported, .introspection_endpoint_auth_methods_supported]' <<<"$disco")" \
	"[\"$K/register\",[\"ES256\",\"RS256\",\"PS256\"],[\"client_secret_basic\",\"client_secret_post\",\"private_key_jwt\"]]" \
	"dynamic registration and private_key_jwt are announced"
expect_eq "$(jq -c '[.end_session_endpoint, .backchannel_logout_supported, .backchannel_logout_session_supported]' <<<"$disco")" \
	"[\"$K/logout\",true,true]" "RP-initiated and back-channel logout are announced"
expect_eq "$(jq -c .request_parameter_supported <<<"$disco")" \
	'false' "nothing that does not work yet is announced"
expect_eq "$(curl -s "$HUB_URL/t/chofu/.well-known/openid-configuration" | jq -r .issuer)" \
	"$HUB_URL/t/chofu" "each realm has its own issuer"
expect_eq "$(http_status "$HUB_URL/t/nowhere/.well-known/openid-configuration")" 404 \
	"an unknown realm is 404"
expect_eq "$(curl -s "$HUB_URL/t/nowhere/jwks" | jq -r .error)" not_found "with a JSON error"
expect_eq "$(curl -s --http2-prior-knowledge "$K/.well-known/openid-configuration" | jq -r .issuer)" \
	"$K" "discovery over HTTP/2"

# --- clients -----------------------------------------------------------------------------------
create() { curl -s "${ADMIN[@]}" -d "$2" "$HUB_URL/admin/v1/realms/$1/clients"; }
expect_eq "$(http_status "$HUB_URL/admin/v1/realms/kodaira/clients" -d '{}')" 401 \
	"creating a client needs the admin token"
expect_eq "$(http_status "$HUB_URL/admin/v1/realms/nowhere/clients" "${ADMIN[@]}" -d '{"name":"x","scopes":[]}')" \
	404 "creating a client in an unknown realm is 404"
expect_eq "$(create kodaira '{"name": "x", "scopes": [], "secret": "mine"}' | jq -r .message)" \
	"secret: unknown field" "unknown fields are refused"
expect_eq "$(create kodaira '{"scopes": []}' | jq -r .message)" \
	"name: is required: 1 to 200 characters without control characters" "name is required"
expect_eq "$(create kodaira '{"name": "x", "scopes": ["a"], "grant_types": ["password"]}' | jq -r .error)" \
	invalid_request "other grants are refused"
expect_match "$(create kodaira '{"name": ' | jq -r .message)" '^body: line 1 column' \
	"malformed JSON is refused with its position"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_client")" 0 \
	"refused requests store nothing"

lib=$(create kodaira '{"name": "小平市図書館システム", "scopes": ["library.read", "library.write"], "access_token_ttl": 600}')
CID=$(jq -r .client_id <<<"$lib")
CSECRET=$(jq -r .client_secret <<<"$lib")
expect_match "$CID" '^[A-Za-z0-9_-]{22}$' "a generated client_id"
expect_match "$CSECRET" '^[A-Za-z0-9_-]{43}$' "a generated 256-bit secret, shown once"
expect_eq "$(jq -r '[.issuer, .token_endpoint, .audience, .signing_alg, (.access_token_ttl|tostring)] | join(" ")' <<<"$lib")" \
	"$K $K/token $HUB_URL ES256 600" "the answer says where and how to use it"
expect_eq "$(sql "$RENKEI_PG" "SELECT encode(secret_sha256, 'hex') = encode(sha256(convert_to('$CSECRET', 'UTF8')), 'hex')
	FROM rk_identity_client WHERE client_id = '$CID'")" t "only the secret's SHA-256 is stored"
listed=$(curl -s "${ADMIN[@]}" "$HUB_URL/admin/v1/realms/kodaira/clients")
expect_eq "$(jq -r '[.clients[].client_id] | join(",")' <<<"$listed")" "$CID" "the list has the client"
expect_eq "$(jq '[.clients[] | keys[] | select(test("secret"))] | length' <<<"$listed")" 0 \
	"the list carries no secret"
expect_eq "$(curl -s "${ADMIN[@]}" "$HUB_URL/admin/v1/realms/chofu/clients" | jq '.clients | length')" 0 \
	"clients belong to their realm"
chofu=$(create chofu '{"name": "調布 booking", "scopes": ["facility.read"]}')
CHOFU_ID=$(jq -r .client_id <<<"$chofu")
CHOFU_SECRET=$(jq -r .client_secret <<<"$chofu")

# --- token endpoint ----------------------------------------------------------------------------
resp=$(curl -s -D "$WORK/h" -u "$CID:$CSECRET" -d grant_type=client_credentials -d scope=library.read "$K/token")
expect_eq "$(jq -r '[.token_type, (.expires_in|tostring), .scope] | join(" ")' <<<"$resp")" \
	"Bearer 600 library.read" "client_secret_basic gets a token"
expect_match "$(cat "$WORK/h")" $'cache-control: no-store\r' "token responses are not cached"
AT=$(jq -r .access_token <<<"$resp")
header=$(jwt_part 1 "$AT")
claims=$(jwt_part 2 "$AT")
active_kid=$(sql "$RENKEI_PG" "SELECT kid FROM rk_identity_key k JOIN rk_tenant t ON t.id = k.tenant_id
	WHERE t.slug = 'kodaira' AND k.state = 'active'")
expect_eq "$(jq -r '[.typ, .alg, .kid] | join(" ")' <<<"$header")" "at+jwt ES256 $active_kid" \
	"header: typ at+jwt, ES256, the active key's kid"
expect_eq "$(jq -r '[.iss, .sub, .client_id, .aud, .scope] | join(" ")' <<<"$claims")" \
	"$K $CID $CID $HUB_URL library.read" "claims: iss, sub = client_id, aud, scope"
expect_eq "$(jq '.exp - .iat' <<<"$claims")" 600 "exp is iat plus the client's lifetime"
expect_match "$(jq -r .jti <<<"$claims")" '^[A-Za-z0-9_-]{22}$' "a jti"

resp=$(curl -s -d grant_type=client_credentials --data-urlencode "client_id=$CID" \
	--data-urlencode "client_secret=$CSECRET" "$K/token")
expect_eq "$(jq -r '[.token_type, .scope] | join(" ")' <<<"$resp")" "Bearer library.read library.write" \
	"client_secret_post gets a token with every allowed scope when none is asked"
resp=$(curl -s --http2-prior-knowledge -u "$CID:$CSECRET" -d grant_type=client_credentials "$K/token")
expect_eq "$(jq -r .token_type <<<"$resp")" Bearer "the token endpoint over HTTP/2"

# Errors (RFC 6749 §5.2), each checked for status and body.
expect_error() { # expect_error WHAT STATUS ERROR DESCRIPTION-REGEX curl-args…
	local what=$1 status=$2 error=$3 desc=$4
	shift 4
	local out
	out=$(curl -s -w '\n%{http_code}' "$@")
	expect_eq "$(tail -n1 <<<"$out")" "$status" "$what: status $status"
	expect_eq "$(head -n -1 <<<"$out" | jq -r .error)" "$error" "$what: $error"
	expect_match "$(head -n -1 <<<"$out" | jq -r .error_description)" "$desc" "$what: described"
}
expect_error "no client authentication" 401 invalid_client 'client authentication is required' \
	-d grant_type=client_credentials "$K/token"
expect_match "$(curl -s -D - -o /dev/null -d grant_type=client_credentials "$K/token")" \
	$'www-authenticate: Basic realm="kodaira"\r' "401 carries a Basic challenge"
expect_error "a wrong secret (basic)" 401 invalid_client 'client authentication failed' \
	-u "$CID:wrong" -d grant_type=client_credentials "$K/token"
expect_error "a wrong secret (post)" 401 invalid_client 'client authentication failed' \
	-d grant_type=client_credentials -d "client_id=$CID" -d client_secret=wrong "$K/token"
expect_error "an unknown client" 401 invalid_client 'client authentication failed' \
	-u "nobody:$CSECRET" -d grant_type=client_credentials "$K/token"
expect_error "a client of another realm" 401 invalid_client 'client authentication failed' \
	-u "$CHOFU_ID:$CHOFU_SECRET" -d grant_type=client_credentials "$K/token"
expect_error "a client_id without a secret" 401 invalid_client 'client authentication is required' \
	-d grant_type=client_credentials -d "client_id=$CID" "$K/token"
expect_error "malformed Basic credentials" 401 invalid_client 'not valid base64' \
	-H 'Authorization: Basic @@@' -d grant_type=client_credentials "$K/token"
expect_error "two authentication methods" 400 invalid_request '^client_secret: .*one method' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d "client_secret=$CSECRET" "$K/token"
expect_error "client_id differing from Basic" 400 invalid_request '^client_id: differs' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d client_id=other "$K/token"
expect_error "no grant_type" 400 invalid_request '^grant_type: is required' \
	-u "$CID:$CSECRET" -d scope=library.read "$K/token"
expect_error "another grant" 400 unsupported_grant_type '^grant_type: ' \
	-u "$CID:$CSECRET" -d grant_type=password "$K/token"
expect_error "a scope the client lacks" 400 invalid_scope "^scope: 'admin' is not allowed" \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d 'scope=library.read admin' "$K/token"
expect_error "a malformed scope" 400 invalid_scope '^scope: must be scope tokens' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials --data-urlencode 'scope=library.read  x' "$K/token"
expect_error "a repeated parameter" 400 invalid_request '^scope: must not be repeated' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d scope=library.read -d scope=library.write "$K/token"
expect_error "a repeated grant_type" 400 invalid_request '^grant_type: must not be repeated' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d grant_type=client_credentials "$K/token"
long_scope=$(head -c 1025 /dev/zero | tr '\0' a)
expect_error "an oversized parameter" 400 invalid_request '^scope: must be at most 1024 bytes' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d "scope=$long_scope" "$K/token"
expect_error "bad percent-encoding" 400 invalid_request '^scope: is not valid percent-encoding' \
	-u "$CID:$CSECRET" -d grant_type=client_credentials -d 'scope=%zz' "$K/token"
expect_error "a JSON body" 400 invalid_request '^Content-Type: must be application/x-www-form-urlencoded' \
	-u "$CID:$CSECRET" -H 'Content-Type: application/json' -d '{"grant_type":"client_credentials"}' "$K/token"
expect_eq "$(http_status "$K/token")" 405 "GET on the token endpoint is 405"
head -c 2000000 /dev/zero | tr '\0' a >"$WORK/big"
expect_eq "$(http_status "$K/token" -u "$CID:$CSECRET" --data-binary "@$WORK/big")" 413 \
	"an oversized body is 413"
expect_eq "$(http_status "$HUB_URL/t/nowhere/token" -u "$CID:$CSECRET" -d grant_type=client_credentials)" \
	404 "the token endpoint of an unknown realm is 404"

# --- introspection -----------------------------------------------------------------------------
introspect() { curl -s -u "$1" --data-urlencode "token=$2" "$3/introspect"; }
got=$(introspect "$CID:$CSECRET" "$AT" "$K")
expect_eq "$(jq -r '[(.active|tostring), .client_id, .scope, .iss, .token_type] | join(" ")' <<<"$got")" \
	"true $CID library.read $K Bearer" "a token of this realm is active, with its claims"
expect_eq "$(jq '.exp - .iat' <<<"$got")" 600 "introspection gives exp and iat"
chofu_at=$(curl -s -u "$CHOFU_ID:$CHOFU_SECRET" -d grant_type=client_credentials "$HUB_URL/t/chofu/token" |
	jq -r .access_token)
expect_eq "$(introspect "$CHOFU_ID:$CHOFU_SECRET" "$chofu_at" "$HUB_URL/t/chofu" | jq -c .active)" true \
	"chofu's token is active at chofu"
expect_eq "$(introspect "$CID:$CSECRET" "$chofu_at" "$K")" '{"active":false}' \
	"a token of realm chofu is inactive at kodaira"
expect_eq "$(introspect "$CHOFU_ID:$CHOFU_SECRET" "$AT" "$HUB_URL/t/chofu")" '{"active":false}' \
	"and kodaira's at chofu"
tampered=$(sed -E 's/\.(.)/.X\1/' <<<"$AT")
expect_eq "$(introspect "$CID:$CSECRET" "$tampered" "$K")" '{"active":false}' "an altered token is inactive"
expect_eq "$(introspect "$CID:$CSECRET" "not-a-token" "$K")" '{"active":false}' "garbage is inactive"
expect_eq "$(introspect "$CID:$CSECRET" "$(head -c 8192 /dev/zero | tr '\0' a)" "$K")" '{"active":false}' \
	"a long garbage token is inactive"
expect_error "introspection without client authentication" 401 invalid_client 'is required' \
	--data-urlencode "token=$AT" "$K/introspect"
expect_error "introspection with a wrong secret" 401 invalid_client 'failed' \
	-u "$CID:nope" --data-urlencode "token=$AT" "$K/introspect"
expect_error "introspection without a token" 400 invalid_request '^token: is required' \
	-u "$CID:$CSECRET" -d token_type_hint=access_token "$K/introspect"
expect_error "an oversized token" 400 invalid_request '^token: must be at most 8192 bytes' \
	-u "$CID:$CSECRET" -d "token=$(head -c 8193 /dev/zero | tr '\0' a)" "$K/introspect"

# --- logs --------------------------------------------------------------------------------------
for secret in "$CSECRET" "$CHOFU_SECRET" "$AT" "$chofu_at" "$RENKEI_MASTER_KEY"; do
	if grep -qF "$secret" "$HUB_LOG"; then
		fail "a secret or token appears in the log"
	fi
done
pass "no secret, token or master key in the log"
grep '"client authentication failed"' "$HUB_LOG" | grep -qF "\"client_id\":\"$CID\"" ||
	fail "failed authentications are not logged with the client id"
pass "failed authentications are logged with the client id"
metrics=$(curl -s "$HUB_URL/metrics")
expect_match "$metrics" 'renkei_http_requests_total\{route="oidc_token",status="200"\} [0-9]+' \
	"token requests are counted"
# --- malformed base64 must not reach cjose, whose decoder aborts the process on it ---------------
# ("AAAAA===": padding after one character of a group trips an assert in cjose's _decode).
expect_eq "$(http_status "$K/token" -H 'Authorization: Basic AAAAA===' -d grant_type=client_credentials)" \
	401 "Basic credentials that are not canonical base64 are refused"
expect_eq "$(http_status "$K/introspect" -u "$CID:$CSECRET" -d 'token=AAAAA===.AAAAA===.AAAA')" 200 \
	"a token with malformed parts is only inactive"
expect_eq "$(curl -s "$K/introspect" -u "$CID:$CSECRET" -d 'token=eyJhbGciOiJFUzI1NiJ9.AAAAA===.AAAA' | jq -c .)" \
	'{"active":false}' "also with a good header"
expect_eq "$(http_status "$K/userinfo" -H 'Authorization: Bearer AAAAA===.AAAAA===.AAAA')" 401 \
	"and refused by userinfo"
at=$(curl -s -u "$CID:$CSECRET" -d grant_type=client_credentials "$K/token" | jq -r .access_token)
expect_eq "$(curl -s "$K/introspect" -u "$CID:$CSECRET" --data-urlencode "token=$at" | jq -r .active)" true \
	"a fresh token is active"
expect_eq "$(curl -s "$K/introspect" -u "$CID:$CSECRET" --data-urlencode "token=${at}AA" | jq -r .active)" false \
	"with characters appended to its signature it is not (one token, one spelling)"
expect_eq "$(http_status "$HUB_URL/readyz")" 200 "the hub is still up"
hub_stop
