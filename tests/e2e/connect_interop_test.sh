# connect_interop_test.sh — starts renkeid on the real PostgreSQL of tests/run and runs
# @connectrpc/connect-node (tests/e2e/connect_interop.mjs) against it in the Connect (JSON and
# protobuf), gRPC and gRPC-Web protocols.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db connect_interop_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
hub_start
node --test-reporter=spec "$RENKEI_SOURCE_DIR/tests/e2e/connect_interop.mjs" "$HUB_URL" ||
	fail "connect-node"
hub_stop
