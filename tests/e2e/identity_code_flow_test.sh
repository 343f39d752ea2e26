# identity_code_flow_test.sh — starts renkeid on the real PostgreSQL of tests/run and runs the
# authorization code flow against it with openid-client and jose
# (tests/e2e/identity_code_flow.mjs): a browser made of fetch fills in the hub's own pages.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_code_flow_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_SIGNING_ALGS=ES256,RS256 # RS256 for one client
hub_start

HUB=$HUB_URL ADMIN_TOKEN=$RENKEI_ADMIN_TOKEN \
	node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/identity_code_flow.mjs" ||
	fail "openid-client through the authorization code flow"
hub_stop
