# adapter_registry_test.sh — adapter registration by municipal IT, end to end: renkeid on the
# real PostgreSQL of tests/run, several renkei-adapter-sim processes (h2c, and mutual TLS with
# a CA and certificates made here with openssl) and renkeictl calling AdminService over
# Connect JSON. Register → ACTIVE with Describe's capabilities and version; list; duplicate
# names and idempotency keys; a sim of another city, a missing capability, an unreachable and
# a silent endpoint → FAILED with the reason, quickly; validation errors naming the field;
# the admin token; disable, enable, remove; mTLS with the registered CA and with a pinned
# certificate; a hub restart keeps the registry; no client certificate → FAILED. The hub and
# every sim must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

SILENT_PID=

expect_error() { # expect_error CODE MESSAGE_REGEX WHAT ARGS…
	local code=$1 regex=$2 what=$3
	shift 3
	ctl "$@"
	[[ $RC == 1 ]] || fail "$what: expected exit status 1, got $RC: $OUT"
	expect_eq "$(jq -r .code <<<"$OUT")" "$code" "$what: $code"
	expect_match "$(jq -r .message <<<"$OUT")" "$regex" "$what: the message"
}

state() { jq -r .adapter.state <<<"$OUT"; }
last_error() { jq -r '.adapter.lastError // ""' <<<"$OUT"; }

# --- certificates: a CA for adapters and the hub, a server certificate, the hub's client
# certificate, and a stranger's CA.
(
	cd "$WORK"
	ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
	openssl req -x509 "${ec[@]}" -days 1 -subj /CN=test-ca -keyout ca.key -out ca.pem 2>/dev/null
	openssl req -x509 "${ec[@]}" -days 1 -subj /CN=other-ca -keyout other.key -out other.pem 2>/dev/null
	openssl req "${ec[@]}" -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null
	printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
	openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
		-extfile server.ext -out server.pem 2>/dev/null
	openssl req "${ec[@]}" -subj /CN=renkei-hub -keyout hub.key -out hub.csr 2>/dev/null
	openssl x509 -req -in hub.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1 \
		-out hub.pem 2>/dev/null
)
server_sha=$(openssl x509 -in "$WORK/server.pem" -noout -fingerprint -sha256 | cut -d= -f2)
ca_sha=$(openssl x509 -in "$WORK/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2 | tr -d : |
	tr A-F a-f)

# --- the hub, with its client certificate for mTLS ---------------------------------------------
export RENKEI_PG
RENKEI_PG=$(fresh_db adapter_registry_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=1500
export RENKEI_FEDERATION_REFRESH_MS=300
export RENKEI_FEDERATION_CLIENT_CERT=$WORK/hub.pem RENKEI_FEDERATION_CLIENT_KEY=$WORK/hub.key
hub_start

chofu='"municipality": {"code": "132080", "slug": "chofu", "name_ja": "調布市", "name_en": "Chofu", "name_kana": "チョウフシ"}'
kiyose='"municipality": {"code": "132217", "slug": "kiyose", "name_ja": "清瀬市", "name_en": "Kiyose", "name_kana": "キヨセシ"}'

# --- 1. register an h2c sim: ACTIVE with Describe's capabilities and version ------------------
sim_start chofu "{\"adapter\": {\"name\": \"sim-chofu\"}, $chofu}"
chofu_port=$SIM_PORT
expect_ok "register" adapter register --tenant chofu --name sim-chofu \
	--endpoint "http://127.0.0.1:$chofu_port" --capability facility_catalogue,facility_booking \
	--capability LIBRARY_LOANS
expect_eq "$(state)" ADAPTER_STATE_ACTIVE "a reachable sim of the right city becomes ACTIVE"
expect_eq "$(jq -r '.adapter.capabilities | length' <<<"$OUT")" 8 "Describe's eight capabilities are stored"
expect_eq "$(jq -r '.adapter.expectedCapabilities | join(",")' <<<"$OUT")" \
	ADAPTER_CAPABILITY_FACILITY_CATALOGUE,ADAPTER_CAPABILITY_FACILITY_BOOKING,ADAPTER_CAPABILITY_LIBRARY_LOANS \
	"the expected capabilities are stored"
expect_match "$(jq -r .adapter.adapterVersion <<<"$OUT")" '^[0-9]+\.[0-9]+' "the adapter's version is stored"
expect_eq "$(jq -r .adapter.tenant.code <<<"$OUT")" 132080 "the adapter belongs to chofu"
expect_eq "$(jq -r .adapter.breaker <<<"$OUT")" BREAKER_STATE_CLOSED "it is in the hub's registry"
expect_eq "$(sql "$RENKEI_PG" "SELECT state FROM rk_adapter WHERE name = 'sim-chofu'")" active \
	"the table says active"

# By code, and as a table.
expect_ok "list by code" adapter list --tenant 132080
expect_eq "$(jq -r '[.adapters[] | .name + ":" + .state] | join(",")' <<<"$OUT")" \
	sim-chofu:ADAPTER_STATE_ACTIVE "list by tenant code"
table=$("$CTL" --hub "$HUB_URL" adapter list --tenant chofu)
expect_match "$table" $'NAME +STATE.*\nsim-chofu +active +http://127.0.0.1' "list as a table"

# --- 2. the same name again, idempotency keys ----------------------------------------------------
expect_error already_exists 'name: tenant chofu already has an adapter named "sim-chofu"' \
	"the same name again" adapter register --tenant chofu --name sim-chofu \
	--endpoint "http://127.0.0.1:$chofu_port"
expect_ok "register with a key" adapter register --tenant chofu --name sim-keyed \
	--endpoint "http://127.0.0.1:$chofu_port" --idempotency-key key-1
first_id=$(jq -r .adapter.id <<<"$OUT")
expect_ok "the same request and key again" adapter register --tenant chofu --name sim-keyed \
	--endpoint "http://127.0.0.1:$chofu_port" --idempotency-key key-1
expect_eq "$(jq -r .adapter.id <<<"$OUT"):$(state)" "$first_id:ADAPTER_STATE_ACTIVE" \
	"the same key and request answer with the same adapter"
expect_error already_exists '^idempotency_key: already used with a different request' \
	"the same key with another request" adapter register --tenant chofu --name sim-other \
	--endpoint "http://127.0.0.1:$chofu_port" --idempotency-key key-1
expect_ok "remove with a key" adapter remove --tenant chofu --name sim-keyed --idempotency-key rm-1
expect_ok "the same removal again" adapter remove --tenant chofu --name sim-keyed --idempotency-key rm-1
pass "a repeated removal with its key succeeds again"
expect_error not_found 'name: tenant chofu has no adapter named "sim-keyed"' \
	"a removal without a key of what is gone" adapter remove --tenant chofu --name sim-keyed

# --- 3. activation refused, with the reason ------------------------------------------------------
sim_start kiyose "{\"adapter\": {\"name\": \"sim-kiyose\"}, $kiyose}"
expect_ok "register another city's sim" adapter register --tenant chofu --name wrong-city \
	--endpoint "http://127.0.0.1:$SIM_PORT"
expect_eq "$(state)" ADAPTER_STATE_FAILED "a sim of another city is FAILED"
expect_eq "$(last_error)" "municipality: the adapter serves 132217 (kiyose), not this tenant 132080 (chofu)" \
	"the reason names both cities"
sim_stop kiyose

sim_start nolib "{\"adapter\": {\"name\": \"sim-nolib\"}, $chofu, \"sim\": {\"library\": {\"enabled\": false}}}"
nolib_port=$SIM_PORT
expect_ok "register without a capability" adapter register --tenant chofu --name no-library \
	--endpoint "http://127.0.0.1:$nolib_port" --capability facility_catalogue,library_loans
expect_eq "$(state)" ADAPTER_STATE_FAILED "a missing expected capability is FAILED"
expect_match "$(last_error)" '^capabilities: the adapter does not report LIBRARY_LOANS \(expected at registration; it reports FACILITY_CATALOGUE, FACILITY_AVAILABILITY, FACILITY_BOOKING\)$' \
	"the reason names the missing capability"
expect_eq "$(jq -r '.adapter.capabilities | length' <<<"$OUT")" 3 "what it reported is kept"

# Unreachable: a closed port fails at once.
closed_port=$((HUB_PORT + 1))
started=$SECONDS
expect_ok "register an unreachable endpoint" adapter register --tenant chofu --name unreachable \
	--endpoint "http://127.0.0.1:$closed_port"
expect_eq "$(state)" ADAPTER_STATE_FAILED "an unreachable endpoint is FAILED"
expect_match "$(last_error)" "^Describe: unavailable: cannot reach http://127.0.0.1:$closed_port" \
	"the reason says it cannot be reached"
((SECONDS - started <= 3)) || fail "an unreachable endpoint took $((SECONDS - started)) s"
pass "an unreachable endpoint fails quickly"

# Silent: a socket that accepts and never speaks HTTP/2 fails at the activation timeout.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >"$WORK/silent.port" &
SILENT_PID=$!
EXTRA_PIDS+=("$SILENT_PID")
for _ in $(seq 1 50); do [[ -s $WORK/silent.port ]] && break; sleep 0.1; done
started=$SECONDS
expect_ok "register a silent endpoint" adapter register --tenant chofu --name silent \
	--endpoint "http://127.0.0.1:$(cat "$WORK/silent.port")"
expect_eq "$(state)" ADAPTER_STATE_FAILED "a silent endpoint is FAILED"
expect_match "$(last_error)" '^Describe: (deadline_exceeded|unavailable): ' "the reason says it did not answer"
((SECONDS - started <= 4)) || fail "a silent endpoint took $((SECONDS - started)) s"
pass "a silent endpoint fails at the activation timeout, no hang"
kill -KILL "$SILENT_PID"
wait "$SILENT_PID" 2>/dev/null || true
SILENT_PID=

# --- 4. validation: errors name the field; nothing is written -------------------------------------
endpoint_rule='^endpoint: must be https://host:port, or http://127.0.0.1:port for h2c on loopback$'
expect_error invalid_argument "$endpoint_rule" "plain http to another machine is refused" \
	adapter register --tenant chofu --name remote --endpoint http://192.0.2.10:9101
expect_error invalid_argument "$endpoint_rule" "plain http to a name is refused" \
	adapter register --tenant chofu --name remote --endpoint http://localhost:9101
expect_error invalid_argument "$endpoint_rule" "an endpoint with a path is refused" \
	adapter register --tenant chofu --name remote --endpoint https://adapter.example.jp:443/x
expect_error invalid_argument "$endpoint_rule" "an endpoint without a port is refused" \
	adapter register --tenant chofu --name remote --endpoint https://adapter.example.jp
expect_error invalid_argument '^name: must be 1-63 characters of a-z, 0-9 and' "a bad name" \
	adapter register --tenant chofu --name Sim_Chofu --endpoint "http://127.0.0.1:$chofu_port"
expect_error invalid_argument '^pinned_cert_sha256: ' "a bad pin" \
	adapter register --tenant chofu --name pinned --endpoint https://127.0.0.1:1 --pin abc
expect_error invalid_argument '^pinned_cert_sha256: only for https:// endpoints' "a pin on h2c" \
	adapter register --tenant chofu --name pinned --endpoint http://127.0.0.1:1 --pin "$server_sha"
printf 'not a certificate\n' >"$WORK/bad.pem"
expect_error invalid_argument '^ca_pem: must hold PEM certificates' "a CA that is not PEM" \
	adapter register --tenant chofu --name withca --endpoint https://127.0.0.1:1 --ca "$WORK/bad.pem"
expect_error not_found '^tenant: no tenant with slug or code "atlantis"$' "an unknown tenant" \
	adapter register --tenant atlantis --name sim --endpoint "http://127.0.0.1:$chofu_port"
expect_error not_found '^tenant: ' "an unknown tenant's list" adapter list --tenant atlantis
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_adapter WHERE name IN ('remote', 'pinned', 'withca', 'sim')")" \
	0 "refused registrations wrote nothing"

# --- 5. the admin token --------------------------------------------------------------------------
body='{"tenant": "chofu"}'
answer=$(curl -s -w '\n%{http_code}' -H 'content-type: application/json' -d "$body" \
	"$HUB_URL/renkei.v1.AdminService/ListAdapters")
expect_eq "$(tail -n1 <<<"$answer")" 401 "no token: HTTP 401"
expect_eq "$(head -n1 <<<"$answer" | jq -r .code)" unauthenticated "no token: UNAUTHENTICATED"
RENKEI_ADMIN_TOKEN=wrong-token-0123456789abcdef0123456789 expect_error unauthenticated \
	'^authorization: the admin or staff token is wrong or expired$' "a wrong token" adapter list --tenant chofu
status=$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' \
	-d '{"tenant": "chofu", "name": "sim-chofu"}' "$HUB_URL/renkei.v1.AdminService/RemoveAdapter")
expect_eq "$status" 401 "no token cannot remove"
# Over gRPC too (h2c): the token travels as metadata.
expect_match "$(curl -s --http2-prior-knowledge -D - -o /dev/null -H 'content-type: application/grpc' \
	-H 'te: trailers' --data-binary @<(printf '\0\0\0\0\0') \
	"$HUB_URL/renkei.v1.AdminService/ListAdapters")" 'grpc-status: 16' "gRPC without a token: status 16"

# --- 6. disable, enable, remove --------------------------------------------------------------------
expect_ok "disable" adapter disable --tenant chofu --name sim-chofu
expect_eq "$(state)" ADAPTER_STATE_DISABLED "disable: DISABLED"
expect_eq "$(jq -r '.adapter.breaker // "none"' <<<"$OUT")" none "disabled: out of the registry"
expect_ok "list" adapter list --tenant chofu
expect_eq "$(jq -r '.adapters[] | select(.name == "sim-chofu") | .state' <<<"$OUT")" \
	ADAPTER_STATE_DISABLED "the list shows it disabled"
expect_eq "$(jq -r '[.adapters[].name] | join(",")' <<<"$OUT")" \
	no-library,silent,sim-chofu,unreachable,wrong-city "the list is ordered by name"
expect_eq "$(jq -r .page.totalSize <<<"$OUT")" 5 "the list counts every adapter"
expect_ok "enable" adapter enable --tenant chofu --name sim-chofu
expect_eq "$(state)" ADAPTER_STATE_ACTIVE "enable: probed again, ACTIVE"
expect_ok "enable a failed one" adapter enable --tenant chofu --name unreachable
expect_eq "$(state)" ADAPTER_STATE_FAILED "enable re-runs activation: still FAILED"
expect_ok "remove" adapter remove --tenant chofu --name unreachable
expect_eq "$OUT" '{}' "remove answers {}"
expect_error not_found '^name: tenant chofu has no adapter named "unreachable"$' "remove again" \
	adapter remove --tenant chofu --name unreachable
expect_error not_found '^name: ' "disable what is not there" adapter disable --tenant chofu --name nope
expect_error not_found '^name: ' "enable what is not there" adapter enable --tenant chofu --name nope

# --- 7. mutual TLS: the registered CA, and a pinned certificate --------------------------------------
tls_env=(RENKEI_ADAPTER_TLS_CERT="$WORK/server.pem" RENKEI_ADAPTER_TLS_KEY="$WORK/server.key"
	RENKEI_ADAPTER_TLS_CLIENT_CA="$WORK/ca.pem")
sim_start mtls "{\"adapter\": {\"name\": \"sim-mtls\"}, $chofu}" "${tls_env[@]}"
mtls_port=$SIM_PORT
expect_ok "register over mTLS with a CA" adapter register --tenant chofu --name mtls \
	--endpoint "https://localhost:$mtls_port" --ca "$WORK/ca.pem" --capability facility_catalogue
expect_eq "$(state)" ADAPTER_STATE_ACTIVE "mTLS with the registered CA and the hub's certificate: ACTIVE"
expect_eq "$(jq -r .adapter.caPemSha256 <<<"$OUT")" "$ca_sha" "the CA's SHA-256 is the openssl fingerprint"
expect_ok "register with a pin" adapter register --tenant chofu --name pinned \
	--endpoint "https://127.0.0.1:$mtls_port" --pin "$server_sha"
expect_eq "$(state)" ADAPTER_STATE_ACTIVE "a pinned leaf certificate: ACTIVE"
expect_eq "$(jq -r .adapter.pinnedCertSha256 <<<"$OUT")" "$(tr -d : <<<"$server_sha" | tr A-F a-f)" \
	"the pin is stored as lower-case hex"
expect_ok "register with a wrong pin" adapter register --tenant chofu --name wrong-pin \
	--endpoint "https://127.0.0.1:$mtls_port" --pin "$(printf '%064d' 0)"
expect_eq "$(state)" ADAPTER_STATE_FAILED "a wrong pin: FAILED"
expect_match "$(last_error)" "does not match the pinned SHA-256" "the reason names the pin"
expect_ok "register with another CA" adapter register --tenant chofu --name wrong-ca \
	--endpoint "https://localhost:$mtls_port" --ca "$WORK/other.pem"
expect_eq "$(state)" ADAPTER_STATE_FAILED "a CA that did not sign the adapter: FAILED"
expect_match "$(last_error)" "certificate verify failed" "the reason is the verification"
expect_ok "register over mTLS by IP with a server name" adapter register --tenant chofu \
	--name by-name --endpoint "https://127.0.0.1:$mtls_port" --ca "$WORK/ca.pem" \
	--server-name localhost
expect_eq "$(state)" ADAPTER_STATE_ACTIVE "tls_server_name is the name verified"

# --- 8. a restart keeps the registry; without its client certificate the hub is refused ------------
hub_stop
pass "the hub exited 0 on SIGTERM"
unset RENKEI_FEDERATION_CLIENT_CERT RENKEI_FEDERATION_CLIENT_KEY
hub_start
for _ in $(seq 1 50); do
	grep -q '"adapter registry loaded"' "$HUB_LOG" && break
	sleep 0.1
done
expect_match "$(grep '"adapter registry loaded"' "$HUB_LOG")" '"active":4' \
	"the registry is rebuilt from the table at start (4 active)"
expect_ok "list after the restart" adapter list --tenant chofu
expect_eq "$(jq -r '[.adapters[] | select(.breaker == "BREAKER_STATE_CLOSED") | .name] | join(",")' <<<"$OUT")" \
	by-name,mtls,pinned,sim-chofu "the active adapters are in the new hub's registry"
expect_ok "enable over mTLS without the client certificate" adapter enable --tenant chofu --name mtls
expect_eq "$(state)" ADAPTER_STATE_FAILED "no client certificate: FAILED"
expect_match "$(last_error)" '^(Describe|health): unavailable: .*TLS: ' \
	"the reason is the refused handshake"

# A change by another hub reaches this one within federation.refresh_ms.
sql "$RENKEI_PG" "UPDATE rk_adapter SET state = 'disabled', revision = revision + 1 WHERE name = 'pinned'" >/dev/null
sleep 1
expect_ok "list" adapter list --tenant chofu
expect_eq "$(jq -r '.adapters[] | select(.name == "pinned") | .breaker // "none"' <<<"$OUT")" none \
	"a change in the table leaves the registry within refresh_ms"

hub_stop
pass "the hub exited 0 on SIGTERM after the restart"
for name in "${!SIM_PIDS[@]}"; do
	sim_stop "$name"
done
pass "every sim drained and exited 0"
