# tests/lib/hub.sh — shared by the shell integration tests: start and stop renkeid the way an
# operator would, make a private database per test, and assert with readable failures.
# Needs what tests/run exports: RENKEI_BIN_DIR, RENKEI_SOURCE_DIR, RENKEI_TEST_PGSOCK.
# Source it; it sets `set -euo pipefail`.
set -euo pipefail

: "${RENKEI_BIN_DIR:?run through tests/run}"
: "${RENKEI_TEST_PGSOCK:?run through tests/run}"

# renkeid refuses to start without a master key (it seals the realms' signing keys): each
# test gets its own, kept for all the hubs it starts.
export RENKEI_MASTER_KEY=${RENKEI_MASTER_KEY:-$(openssl rand -hex 32)}

TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX")
HUB_PID=
HUB_LOG=$WORK/hub.log

fail() {
	echo "FAIL ($TEST_NAME): $*" >&2
	if [[ -s $HUB_LOG ]]; then
		echo "--- last lines of the hub's log:" >&2
		tail -n 20 "$HUB_LOG" >&2
	fi
	exit 1
}

pass() { echo "ok - $*"; }

expect_eq() { # expect_eq ACTUAL EXPECTED WHAT
	[[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"
	pass "$3"
}

expect_match() { # expect_match TEXT REGEX WHAT
	[[ $1 =~ $2 ]] || fail "$3: '$1' does not match /$2/"
	pass "$3"
}

cleanup() {
	if [[ -n $HUB_PID ]] && kill -0 "$HUB_PID" 2>/dev/null; then
		kill -KILL "$HUB_PID" 2>/dev/null || true
	fi
	rm -rf -- "$WORK"
}
trap cleanup EXIT
trap "exit 143" TERM INT

# fresh_db NAME: an empty database of that name; prints its conninfo.
fresh_db() {
	psql -q -h "$RENKEI_TEST_PGSOCK" -U renkei -d postgres -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
	echo "host=$RENKEI_TEST_PGSOCK dbname=$1 user=renkei"
}

# sql CONNINFO QUERY: one unaligned result.
sql() { psql -X -At -d "$1" -c "$2"; }

# http_status URL [curl args…]: the status code ("000" if no answer within 5 s).
http_status() {
	local url=$1
	shift
	curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" "$url" || true
}

# hub_start [renkeid args…]: starts renkeid on a free port with the caller's RENKEI_*
# variables, waits for /readyz; sets HUB_PID, HUB_PORT, HUB_URL.
hub_start() {
	local attempt
	for attempt in 1 2 3 4 5; do
		HUB_PORT=$((20000 + RANDOM % 20000))
		RENKEI_PORT=$HUB_PORT "$RENKEI_BIN_DIR/renkeid" "$@" >"$HUB_LOG" 2>&1 &
		HUB_PID=$!
		HUB_URL=${HUB_SCHEME:-http}://127.0.0.1:$HUB_PORT
		local i
		for i in $(seq 1 300); do
			if ! kill -0 "$HUB_PID" 2>/dev/null; then
				break
			fi
			if [[ $(http_status "$HUB_URL/readyz" ${HUB_CURL_ARGS:-}) == 200 ]]; then
				return 0
			fi
			sleep 0.1
		done
		if kill -0 "$HUB_PID" 2>/dev/null; then
			fail "renkeid did not become ready within 30 s"
		fi
		wait "$HUB_PID" || true
		HUB_PID=
		grep -q 'cannot listen' "$HUB_LOG" || fail "renkeid exited during start-up"
	done
	fail "no free port after 5 attempts"
}

# hub_stop: SIGTERM, then its exit status must be 0 (sanitizers report through it).
hub_stop() {
	kill -TERM "$HUB_PID"
	local status=0
	wait "$HUB_PID" || status=$?
	HUB_PID=
	[[ $status == 0 ]] || fail "renkeid exited with status $status after SIGTERM"
}
