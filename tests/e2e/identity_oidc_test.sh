# identity_oidc_test.sh — starts renkeid on the real PostgreSQL of tests/run and drives one of
# its realms with certified clients nobody here wrote: openid-client (discovery,
# client_credentials, introspection) and jose (JWKS, access token verification), in
# tests/e2e/identity_oidc.mjs.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_oidc_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
hub_start

created=$(curl -s -H "Authorization: Bearer $RENKEI_ADMIN_TOKEN" \
	-d '{"name": "e2e partner", "scopes": ["library.read"]}' "$HUB_URL/admin/v1/realms/kodaira/clients")
row=$(sql "$RENKEI_PG" "SELECT k.kid || ' ' || encode(k.private_sealed, 'hex') FROM rk_identity_key k
	JOIN rk_tenant t ON t.id = k.tenant_id WHERE t.slug = 'kodaira' AND k.state = 'active'")
HUB=$HUB_URL ADMIN_TOKEN=$RENKEI_ADMIN_TOKEN MASTER_KEY=$RENKEI_MASTER_KEY \
	CLIENT_ID=$(jq -r .client_id <<<"$created") CLIENT_SECRET=$(jq -r .client_secret <<<"$created") \
	ACTIVE_KID=${row%% *} SEALED_HEX=${row#* } \
	node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/identity_oidc.mjs" ||
	fail "openid-client and jose against the realm"
hub_stop
