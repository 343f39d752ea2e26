# tests/lib/resident.sh — shared by the shell tests that act as residents: make accounts and an
# OIDC client per realm, log in through the hub's login page as a browser would (curl with a
# cookie jar, PKCE) to get access tokens, and call FacilityService over Connect JSON.
# Source it after tests/lib/hub.sh, with the hub started (HUB_URL) and RENKEI_ADMIN_TOKEN set.
# shellcheck shell=bash

PASSWORD='correct horse battery staple'
REDIRECT=http://127.0.0.1:9/cb
ADMIN=(-H "Authorization: Bearer $RENKEI_ADMIN_TOKEN")
declare -A CLIENT=()

# resident_add SLUG USERNAME: an account of realm SLUG with $PASSWORD (and the realm's test
# client, once).
resident_add() {
	local slug=$1 username=$2
	curl -s "${ADMIN[@]}" -d "{\"username\": \"$username\", \"password\": \"$PASSWORD\"}" \
		"$HUB_URL/admin/v1/realms/$slug/users" | jq -e .username >/dev/null ||
		fail "could not create $username at $slug"
	[[ -n ${CLIENT[$slug]:-} ]] || CLIENT[$slug]=$(curl -s "${ADMIN[@]}" -d "{\"name\": \"booking site\",
		\"grant_types\": [\"authorization_code\"], \"redirect_uris\": [\"$REDIRECT\"],
		\"scopes\": [\"openid\"], \"first_party\": true}" \
		"$HUB_URL/admin/v1/realms/$slug/clients" | jq -r '.client_id + " " + .client_secret')
}

# resident_token SLUG USERNAME [SCOPE [CLIENT]]: logs in through the login page with the realm's
# test client (or CLIENT, "id secret") asking SCOPE (default "openid"); prints the access token.
resident_token() {
	local slug=$1 username=$2 scope=${3:-openid} jar=$WORK/jar.$2 id secret verifier challenge page tx csrf location code
	read -r id secret <<<"${4:-${CLIENT[$slug]}}"
	verifier=$(openssl rand -hex 32)
	challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d =)
	page=$(curl -s -c "$jar" -b "$jar" "$HUB_URL/t/$slug/authorize?client_id=$id&redirect_uri=$REDIRECT&response_type=code&scope=${scope// /%20}&code_challenge=$challenge&code_challenge_method=S256&state=s")
	tx=$(grep -o 'name="tx" value="[^"]*"' <<<"$page" | head -1 | sed 's/.*value="//;s/"$//')
	csrf=$(grep -o 'name="csrf" value="[^"]*"' <<<"$page" | head -1 | sed 's/.*value="//;s/"$//')
	location=$(curl -s -c "$jar" -b "$jar" -o /dev/null -w '%{redirect_url}' --data-urlencode "tx=$tx" \
		--data-urlencode "csrf=$csrf" --data-urlencode "username=$username" \
		--data-urlencode "password=$PASSWORD" "$HUB_URL/t/$slug/login")
	code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$location")
	[[ -n $code ]] || fail "$username could not log in at $slug (went to '$location')"
	curl -s -u "$id:$secret" -d grant_type=authorization_code -d "code=$code" \
		-d "redirect_uri=$REDIRECT" -d "code_verifier=$verifier" "$HUB_URL/t/$slug/token" | jq -r .access_token
}

# call TOKEN METHOD JSON [KEY]: FacilityService over Connect JSON (TOKEN "" = anonymous, KEY as
# Idempotency-Key); sets OUT, STATUS and REASON (the renkei-error-reason header).
call() { call_service FacilityService "$@"; }

# call_service SERVICE TOKEN METHOD JSON [KEY]: the same for any service of renkei.v1.
call_service() {
	local service=$1
	shift
	local args=(-s --max-time 20 -D "$WORK/headers" -w '\n%{http_code}' -H 'content-type: application/json')
	[[ -z $1 ]] || args+=(-H "Authorization: Bearer $1")
	[[ -z ${4:-} ]] || args+=(-H "Idempotency-Key: $4")
	local body
	body=$(curl "${args[@]}" --data-binary "$3" "$HUB_URL/renkei.v1.$service/$2") ||
		fail "$2: curl failed"
	STATUS=${body##*$'\n'}
	OUT=${body%$'\n'*}
	REASON=$(tr -d '\r' <"$WORK/headers" | sed -n 's/^renkei-error-reason: //ip')
}
