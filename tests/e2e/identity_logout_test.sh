# identity_logout_test.sh — starts renkeid on the real PostgreSQL of tests/run, with a test CA
# standing in for the system's trust store (SSL_CERT_FILE, which OpenSSL's default paths
# read), and runs RP-initiated and back-channel logout against it
# (tests/e2e/identity_logout.mjs): openid-client drives a browser made of fetch, and node HTTP
# and HTTPS servers on 127.0.0.1 play the relying parties that receive logout tokens.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_logout_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123

# The CA the hub trusts, a certificate for 127.0.0.1 and one that names another host.
tls=$WORK/tls
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj /CN=renkei-logout-test-ca -keyout "$tls/ca.key" -out "$tls/ca.pem" 2>/dev/null ||
	fail "making the test CA"
for cert in good:IP:127.0.0.1 wrong:DNS:rp.invalid; do
	name=${cert%%:*}
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$name" \
		-keyout "$tls/$name.key" -out "$tls/$name.csr" 2>/dev/null || fail "a key for $name"
	openssl x509 -req -in "$tls/$name.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" \
		-CAcreateserial -days 1 -extfile <(printf 'subjectAltName=%s\n' "${cert#*:}") \
		-out "$tls/$name.pem" 2>/dev/null || fail "a certificate for $name"
done

SSL_CERT_FILE=$tls/ca.pem hub_start

HUB=$HUB_URL ADMIN_TOKEN=$RENKEI_ADMIN_TOKEN TLS_DIR=$tls HUB_LOG=$HUB_LOG \
	node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/identity_logout.mjs" ||
	fail "RP-initiated and back-channel logout"
hub_stop
