# identity_registration_test.sh — starts renkeid on the real PostgreSQL of tests/run and runs
# dynamic client registration and private_key_jwt client authentication against it with
# openid-client and jose (tests/e2e/identity_registration.mjs).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_registration_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
hub_start

HUB=$HUB_URL ADMIN_TOKEN=$RENKEI_ADMIN_TOKEN \
	node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/identity_registration.mjs" ||
	fail "openid-client: dynamic registration and private_key_jwt"

# Neither initial access tokens, client assertions nor secrets reach the log.
if grep -Eq 'eyJ[A-Za-z0-9_-]{20,}\.|"token":|client_secret"' "$HUB_LOG"; then
	fail "a token or secret reached the hub's log"
fi
pass "no token or secret in the log"
hub_stop
