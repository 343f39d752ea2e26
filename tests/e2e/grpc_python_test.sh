# grpc_python_test.sh — starts renkeid on the real PostgreSQL of tests/run and runs Debian's
# python3-grpcio against it (tests/e2e/grpc_python.py): a second stock gRPC client.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db grpc_python_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
hub_start
/usr/bin/python3 "$RENKEI_SOURCE_DIR/tests/e2e/grpc_python.py" "127.0.0.1:$HUB_PORT" || fail "python grpcio"
hub_stop
