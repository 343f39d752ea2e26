# workers_test.sh — server.workers: several event-loop processes on one port (hub/supervise.h).
# Both workers serve; a worker killed after start-up is replaced; SIGTERM drains them all and
# the parent exits 0; workers that cannot start stop the whole hub with status 1.
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db workers_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants RENKEI_WORKERS=2
hub_start

workers() { pgrep -P "$HUB_PID" | sort; }
listening() { grep -c '"msg":"listening"' "$HUB_LOG"; }
for _ in $(seq 1 100); do [[ $(listening) == 2 ]] && break; sleep 0.1; done
expect_eq "$(listening)" 2 "two workers listen"
expect_eq "$(workers | wc -l)" 2 "as two child processes of renkeid"
expect_match "$(grep '"msg":"listening"' "$HUB_LOG" | grep -o '"worker":[0-9]' | sort | tr '\n' ' ')" \
	'"worker":0 "worker":1' "numbered 0 and 1"

ok=0
for _ in $(seq 1 200); do
	[[ $(http_status "$HUB_URL/t/kodaira/.well-known/openid-configuration") == 200 ]] && ok=$((ok + 1))
done
expect_eq "$ok" 200 "every request is answered"

sleep 5 # a worker that dies this early would be taken as unable to run
victim=$(workers | head -1)
kill -KILL "$victim"
for _ in $(seq 1 100); do [[ $(listening) == 3 ]] && break; sleep 0.1; done
expect_eq "$(listening)" 3 "a killed worker is started again"
expect_eq "$(workers | wc -l)" 2 "two workers again"
expect_eq "$(workers | grep -cx "$victim" || true)" 0 "in a new process"
expect_eq "$(http_status "$HUB_URL/readyz")" 200 "and the hub is ready"

children=$(workers)
hub_stop
pass "SIGTERM: the parent exits 0 once the workers drained"
for pid in $children; do
	kill -0 "$pid" 2>/dev/null && fail "worker $pid outlived the parent"
done
pass "no worker is left"

# A port another socket holds (without SO_REUSEPORT): the workers cannot listen, the hub stops.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(60)' \
	>"$WORK/port" &
holder=$!
for _ in $(seq 1 50); do [[ -s $WORK/port ]] && break; sleep 0.1; done
status=0
RENKEI_PORT=$(cat "$WORK/port") timeout 20 "$RENKEI_BIN_DIR/renkeid" >"$WORK/taken.log" 2>&1 || status=$?
kill "$holder"
expect_eq "$status" 1 "workers that cannot listen stop the hub with status 1"
expect_match "$(cat "$WORK/taken.log")" "cannot listen" "saying why"
