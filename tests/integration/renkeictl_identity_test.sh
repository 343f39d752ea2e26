# renkeictl_identity_test.sh — starts renkeid on the real PostgreSQL of tests/run and drives
# the real renkeictl against it: `client create|list`, `user create|list` (the password read
# from stdin, then used on the hub's own login page) and `keys rotate`, each with and without
# --json; that --json prints exactly one object; the hub's refusals (exit 1, its message and
# status on stderr) and usage errors (exit 2, naming the option); and that no password or
# secret reaches the hub's log.
# shellcheck shell=bash source=tests/lib/hub.sh
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db renkeictl_identity_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
CTL=$RENKEI_BIN_DIR/renkeictl
# shellcheck disable=SC2119  # renkeid takes no arguments here
hub_start
C=$HUB_URL/t/chofu

# run ARGS…: renkeictl against the hub, stdin from $STDIN (default empty); sets OUT (stdout),
# ERR (stderr) and RC.
run() {
	RC=0
	OUT=$("$CTL" --hub "$HUB_URL" "$@" <<<"${STDIN:-}" 2>"$WORK/ctl.err") || RC=$?
	ERR=$(<"$WORK/ctl.err")
}

# json ARGS…: run with --json; OUT must be exactly one JSON object.
json() {
	run --json "$@"
	[[ $(jq -s 'length == 1 and (.[0] | type) == "object"' <<<"$OUT" 2>/dev/null) == true ]] ||
		fail "renkeictl --json $* did not print exactly one JSON object: '$OUT' ($ERR)"
}

expect_ok() { # expect_ok WHAT
	[[ $RC == 0 ]] || fail "$1: renkeictl exited $RC: $OUT $ERR"
}

expect_usage() { # expect_usage WHAT ERR-REGEX ARGS…
	local what=$1 regex=$2
	shift 2
	run "$@"
	expect_eq "$RC" 2 "$what: exit status 2"
	expect_match "$(head -n1 <<<"$ERR")" "$regex" "$what: the option is named"
	expect_eq "$OUT" "" "$what: nothing on stdout"
}

# --- clients -----------------------------------------------------------------------------------
json client create --tenant chofu --name "調布 施設予約" --scope 'facility.read facility.write' \
	--service facility.booking
expect_ok "client create --json"
CID=$(jq -r .client_id <<<"$OUT")
CSECRET=$(jq -r .client_secret <<<"$OUT")
expect_match "$CSECRET" '^[A-Za-z0-9_-]{43}$' "a confidential client is shown its secret"
expect_eq "$(jq -r '[.name, (.grant_types | join(",")), (.scopes | join(",")), .token_endpoint_auth_method, .service, .issuer] | join(" ")' <<<"$OUT")" \
	"調布 施設予約 client_credentials facility.read,facility.write client_secret_basic facility.booking $C" \
	"the options reach the client (grant by default client_credentials)"
token=$(curl -s -u "$CID:$CSECRET" -d grant_type=client_credentials "$C/token" | jq -r .token_type)
expect_eq "$token" Bearer "the secret printed works at the token endpoint"

json client create --tenant chofu --name portal --public --first-party \
	--redirect-uri http://127.0.0.1:9/cb --redirect-uri https://portal.example/cb \
	--post-logout-redirect-uri https://portal.example/bye --subject-type public
expect_ok "client create --public --json"
PUBLIC_ID=$(jq -r .client_id <<<"$OUT")
expect_eq "$(jq -r 'has("client_secret")' <<<"$OUT")" false "a public client has no secret"
expect_eq "$(jq -r '[.token_endpoint_auth_method, (.grant_types | join(",")), (.redirect_uris | join(",")), (.post_logout_redirect_uris | join(",")), .subject_type, .first_party] | join(" ")' <<<"$OUT")" \
	"none authorization_code,refresh_token http://127.0.0.1:9/cb,https://portal.example/cb https://portal.example/bye public true" \
	"--public is auth method none; redirect URIs mean the code flow"
expect_eq "$(jq -c .scopes <<<"$OUT")" '["openid","profile","email","offline_access"]' \
	"the hub's default scopes for the code flow"

json client create --tenant chofu --name nothing --scope '' --grant client_credentials \
	--access-token-ttl 600 --auth-method client_secret_post
expect_ok "client create --scope ''"
expect_eq "$(jq -c '[.scopes, .access_token_ttl, .token_endpoint_auth_method]' <<<"$OUT")" \
	'[[],600,"client_secret_post"]' "--scope '' is no scopes; ttl and auth method"

run client create --tenant chofu --name "人 readable" --scope library.read
expect_ok "client create"
HUMAN_SECRET=$(awk '$1 == "client_secret" { print $2 }' <<<"$OUT")
expect_match "$HUMAN_SECRET" '^[A-Za-z0-9_-]{43}$' "the summary shows the secret"
expect_match "$OUT" 'shown this once' "with a warning that it is shown once"
expect_match "$(awk '$1 == "client_id" { print $2 }' <<<"$OUT")" '^[A-Za-z0-9_-]{22}$' \
	"the summary shows the client_id"
run client create --tenant chofu --name pub2 --public --redirect-uri http://127.0.0.1:9/cb
expect_ok "client create --public"
[[ $OUT != *client_secret* ]] || fail "a public client's summary shows no secret: $OUT"
pass "a public client's summary shows no secret"

json client list --tenant chofu
expect_ok "client list --json"
expect_eq "$(jq '.clients | length' <<<"$OUT")" 5 "the list has the five clients"
expect_eq "$(jq '[.clients[] | keys[] | select(test("secret"))] | length' <<<"$OUT")" 0 \
	"the list carries no secret"
run client list --tenant chofu
expect_ok "client list"
expect_eq "$(head -n1 <<<"$OUT" | awk '{print $1, $2, $3, $4}')" "CLIENT_ID AUTH GRANTS NAME" "a table"
expect_match "$(grep "^$PUBLIC_ID " <<<"$OUT")" '^[^ ]+ +none +authorization_code,refresh_token +portal$' \
	"a row per client"
json client list --tenant kodaira
expect_eq "$(jq '.clients | length' <<<"$OUT")" 0 "another realm has none of them"

# The hub's refusal: exit 1, its status and message on stderr; --json: its object.
run client create --tenant chofu --name bad --redirect-uri http://example.com/cb
expect_eq "$RC" 1 "a refused client: exit status 1"
expect_match "$ERR" '^renkeictl: the hub answered 400: redirect_uris\[0\]: must be an absolute https URI' \
	"the hub's message on stderr, naming the field"
json client create --tenant nowhere --name x --scope a
expect_eq "$RC" 1 "an unknown realm: exit status 1"
expect_eq "$(jq -c '[.error, .status]' <<<"$OUT")" '["not_found",404]' "--json: the hub's error and status"
expect_match "$ERR" '^renkeictl: the hub answered 404: no realm with this slug' "and stderr says it too"

# --- users -------------------------------------------------------------------------------------
PASSWORD='correct horse  battery staple'
STDIN=$PASSWORD json user create --tenant chofu --username demo-chofu --password-stdin \
	--display-name "調布 太郎" --email demo@example.org
expect_ok "user create --json"
expect_eq "$(jq -r '[.username, .home_municipality, .display_name, .email, .residency_verified, .certificate_bound] | join(" ")' <<<"$OUT")" \
	"demo-chofu 132080 調布 太郎 demo@example.org registration false" "the account as the hub stored it"
expect_eq "$(jq '[keys[] | select(test("password"))] | length' <<<"$OUT")" 0 "no password in the answer"
CERT_KEY=$(openssl rand -hex 32 | tr a-f A-F)
STDIN=$'second password\r' run user create --tenant chofu --username staff-chofu --password-stdin \
	--staff tenant-admin,auditor --staff librarian --residency-verified self_declared --cert-key "$CERT_KEY"
expect_ok "user create"
expect_eq "$(awk '$1 == "user" { print $2 }' <<<"$OUT")" staff-chofu "the summary names the user"
expect_match "$OUT" 'staff roles +tenant-admin,auditor,librarian' "--staff, repeated and comma-joined"
expect_match "$OUT" 'certificate +bound' "--cert-key binds a certificate (upper-case hex accepted)"

json user list --tenant chofu
expect_ok "user list --json"
expect_eq "$(jq -r '[.users[].username] | join(",")' <<<"$OUT")" "demo-chofu,staff-chofu" \
	"the users appear in the list"
expect_eq "$(jq -r '.users[] | select(.username == "staff-chofu") | .residency_verified' <<<"$OUT")" \
	self_declared "with their settings"
run user list --tenant chofu
expect_ok "user list"
expect_match "$(grep '^staff-chofu ' <<<"$OUT")" '^staff-chofu +132080 +self_declared +yes +tenant-admin,auditor,librarian +-$' \
	"a table row per user"
expect_match "$(sql "$RENKEI_PG" "SELECT password_hash FROM rk_identity_account WHERE username = 'demo-chofu'")" \
	'^[$]argon2id[$]' "the password is stored as argon2id"

# The password read from stdin is the one the login page accepts (its spaces kept, the
# newline and a CR before it dropped).
VERIFIER=$(openssl rand -hex 32)
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | base64 | tr '+/' '-_' | tr -d '=')
login_status() { # login_status USERNAME PASSWORD: the status of the login form's answer
	local jar=$WORK/jar.$RANDOM page tx csrf
	page=$(curl -s -c "$jar" -b "$jar" -G "$C/authorize" -d response_type=code \
		--data-urlencode "client_id=$PUBLIC_ID" --data-urlencode redirect_uri=http://127.0.0.1:9/cb \
		-d scope=openid -d state=s -d "code_challenge=$CHALLENGE" -d code_challenge_method=S256)
	tx=$(sed -n 's/.*name="tx" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1 | sed 's/&amp;/\&/g')
	csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$page" | head -n1 | sed 's/&amp;/\&/g')
	[[ -n $tx && -n $csrf ]] || fail "no login form: ${page:0:300}"
	curl -s -o /dev/null -w '%{http_code}' -c "$jar" -b "$jar" --data-urlencode "tx=$tx" \
		--data-urlencode "csrf=$csrf" --data-urlencode "username=$1" --data-urlencode "password=$2" \
		"$C/login"
}
expect_match "$(login_status demo-chofu "$PASSWORD")" '^30[23]$' "the resident logs in with the password from stdin"
expect_eq "$(login_status demo-chofu "${PASSWORD// /}")" 401 "and not with another"
expect_match "$(login_status staff-chofu 'second password')" '^30[23]$' "a CRLF line ending is not part of it"

STDIN=$PASSWORD run user create --tenant chofu --username demo-chofu --password-stdin
expect_eq "$RC" 1 "a taken username: exit status 1"
expect_eq "$ERR" "renkeictl: the hub answered 409: username: is taken" "the message on stderr"
expect_eq "$OUT" "" "nothing on stdout"
STDIN=$PASSWORD json user create --tenant chofu --username demo-chofu --password-stdin
expect_eq "$(jq -c '[.error, .message, .status]' <<<"$OUT")" '["conflict","username: is taken",409]' \
	"--json: one error object with the status"
STDIN=short json user create --tenant chofu --username short-pw --password-stdin
expect_eq "$RC/$(jq -r .message <<<"$OUT")" "1/password: must be at least 8 bytes" "the hub's password policy"

# --- usage errors --------------------------------------------------------------------------------
STDIN='' expect_usage "an empty password" '^renkeictl: --password-stdin: .*empty' \
	user create --tenant chofu --username empty-pw --password-stdin
expect_usage "no --password-stdin" '^renkeictl: user create needs --password-stdin' \
	user create --tenant chofu --username nopw
expect_usage "a password in argv" '^renkeictl: --password: not an option' \
	user create --tenant chofu --username argv-pw --password hunter22hunter22
expect_usage "an unknown option" '^renkeictl: --colour: unknown option' \
	client create --tenant chofu --name x --colour blue
expect_usage "a missing value" '^renkeictl: --name: needs a value' client create --tenant chofu --name
expect_usage "an option twice" '^renkeictl: --name: given twice' client create --tenant chofu --name a --name b
expect_usage "a bad number" '^renkeictl: --access-token-ttl: must be a positive whole number' \
	client create --tenant chofu --name a --access-token-ttl soon
expect_usage "--public with another auth method" '^renkeictl: --public: ' \
	client create --tenant chofu --name a --public --auth-method client_secret_post
expect_usage "no --tenant" '^renkeictl: client list needs --tenant' client list
expect_usage "a tenant that is no slug" '^renkeictl: --tenant: must be a tenant slug' \
	user list --tenant ../tenants
expect_usage "no --name" '^renkeictl: client create needs --name' client create --tenant chofu
expect_usage "an unknown verb" '^renkeictl: keys delete: unknown command' keys delete --tenant chofu
run --json user list --tenant chofu --bogus
expect_eq "$RC/$OUT" "2/" "a usage error prints no JSON"
expect_eq "$(sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_account WHERE username IN ('empty-pw', 'nopw', 'argv-pw', 'short-pw')")" \
	0 "refused commands create nothing"

# --- keys rotate ---------------------------------------------------------------------------------
token() { curl -s -u "$CID:$CSECRET" -d grant_type=client_credentials "$C/token" | jq -r .access_token; }
jwks_kids() { curl -s "$C/jwks" | jq -r '[.keys[].kid] | sort | join(" ")'; }
b64pad() { local s=$1; while ((${#s} % 4)); do s+='='; done; echo "$s"; }
kid_of() { b64pad "$(cut -d. -f1 <<<"$1")" | tr '_-' '/+' | base64 -d | jq -r .kid; }
before=$(kid_of "$(token)")
json keys rotate --tenant chofu
expect_ok "keys rotate --json"
expect_eq "$(jq -r '[.realm, .alg, (.retired | join(","))] | join(" ")' <<<"$OUT")" \
	"chofu ES256 $before" "the active key is retired"
active=$(jq -r .active <<<"$OUT")
next=$(jq -r .next <<<"$OUT")
[[ $active != "$before" && $next != "$active" ]] || fail "rotation did not move the keys: $OUT"
expect_eq "$(kid_of "$(token)")" "$active" "tokens are signed with the new active kid"
expect_eq "$(jwks_kids)" "$(printf '%s\n' "$before" "$active" "$next" | sort | tr '\n' ' ' | sed 's/ $//')" \
	"/t/chofu/jwks publishes the retired, active and new next key"
run keys rotate --tenant chofu --alg ES256
expect_ok "keys rotate"
expect_eq "$(awk '$1 == "active" { print $2 }' <<<"$OUT")" "$next" "the summary names the new active kid"
expect_eq "$(kid_of "$(token)")" "$next" "which now signs"
run keys rotate --tenant chofu --alg RS256
expect_eq "$RC" 1 "an algorithm the hub does not keep: exit status 1"
expect_match "$ERR" '^renkeictl: the hub answered 400: alg: ' "its message names the field"

# --- registration-token ------------------------------------------------------------------------
json registration-token --tenant chofu --uses 1 --ttl 600
expect_ok "registration-token --json"
regtoken=$(jq -r .token <<<"$OUT")
expect_eq "$(jq -r .uses <<<"$OUT")" 1 "one registration"
registered=$(curl -s -H "Authorization: Bearer $regtoken" -H 'Content-Type: application/json' \
	-d '{"client_name": "vendor app", "redirect_uris": ["https://vendor.example/cb"]}' "$C/register")
expect_match "$(jq -r .client_id <<<"$registered")" '^[A-Za-z0-9_-]{22}$' \
	"the token registers a client at /t/chofu/register"
expect_eq "$(http_status "$C/register" -H "Authorization: Bearer $regtoken" \
	-H 'Content-Type: application/json' -d '{"redirect_uris": ["https://vendor.example/cb"]}')" 401 \
	"and is spent"
run registration-token --tenant chofu --uses 0
expect_eq "$RC" 2 "--uses 0: a usage error"
expect_match "$ERR" '--uses: must be a positive whole number' "naming the option"

# --- the token and the hub ---------------------------------------------------------------------
RENKEI_ADMIN_TOKEN='' json client list --tenant chofu
expect_eq "$RC/$(jq -r .error <<<"$OUT")" "1/no_token" "no admin token: exit status 1"
RENKEI_ADMIN_TOKEN=wrong-token-0123456789abcdef0123456789 json user list --tenant chofu
expect_eq "$RC/$(jq -r .status <<<"$OUT")" "1/401" "a wrong admin token: the hub's 401"
RC=0
"$CTL" --hub http://127.0.0.1:1 client list --tenant chofu 2>"$WORK/ctl.err" || RC=$?
expect_eq "$RC" 1 "no hub: exit status 1"
expect_match "$(<"$WORK/ctl.err")" '^renkeictl: http://127.0.0.1:1: ' "naming the hub"

for secret in "$PASSWORD" "second password" "$CSECRET" "$HUMAN_SECRET" "$regtoken"; do
	if grep -qF -- "$secret" "$HUB_LOG"; then
		fail "a password or secret appears in the hub's log"
	fi
done
pass "no password or client secret in the hub's log"
hub_stop
