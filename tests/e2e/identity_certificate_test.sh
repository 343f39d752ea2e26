# identity_certificate_test.sh — certificate login end to end: a test CA made with OpenSSL
# (tests/lib/make-test-ca) is the hub's trust anchor (identity.cert_anchors, identity.cert_crl),
# and tests/e2e/identity_certificate.mjs logs residents in with `renkeictl cert-login-sign`.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

"$RENKEI_SOURCE_DIR/tests/lib/make-test-ca" "$WORK/ca"
export RENKEI_PG
RENKEI_PG=$(fresh_db identity_certificate_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_CERT_ANCHORS=$WORK/ca/root.pem RENKEI_CERT_CRL=$WORK/ca/crl.pem
hub_start

HUB=$HUB_URL ADMIN_TOKEN=$RENKEI_ADMIN_TOKEN RENKEICTL=$RENKEI_BIN_DIR/renkeictl CA=$WORK/ca \
	node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/identity_certificate.mjs" ||
	fail "certificate login with openid-client and renkeictl cert-login-sign"
hub_stop

# A bad trust file stops start-up with a message naming the setting.
RENKEI_CERT_ANCHORS=$WORK/ca/alice.key "$RENKEI_BIN_DIR/renkeid" >"$WORK/bad.log" 2>&1 &&
	fail "renkeid started with a private key as its trust anchors"
expect_match "$(cat "$WORK/bad.log")" "identity.cert_anchors" "a bad anchors file is named"
