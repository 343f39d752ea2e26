# grpc_interop_test.sh — starts renkeid on the real PostgreSQL of tests/run and runs a stock
# gRPC client (@grpc/grpc-js, tests/e2e/grpc_interop.mjs) against it, over h2c and over TLS.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db grpc_interop_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
hub_start
node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/grpc_interop.mjs" "127.0.0.1:$HUB_PORT" ||
	fail "grpc-js over h2c"
hub_stop

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
export RENKEI_TLS_CERT=$WORK/cert.pem RENKEI_TLS_KEY=$WORK/key.pem
HUB_SCHEME=https HUB_CURL_ARGS="--cacert $WORK/cert.pem" hub_start
node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/grpc_interop.mjs" "localhost:$HUB_PORT" "$WORK/cert.pem" ||
	fail "grpc-js over TLS"
hub_stop
