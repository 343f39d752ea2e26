# identity_staff_test.sh — staff accounts with tenant-scoped roles: a staff member logs in at
# their home realm (authorization code flow with PKCE, through the hub's own login page, driven
# by curl as a browser), and their access token works on the admin API of their tenant only,
# with their roles only — over plain HTTP and over AdminService (Connect).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db identity_staff_test)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

user() { # user SLUG USERNAME ROLES_JSON
	curl -s "${ADMIN[@]}" -d "{\"username\": \"$2\", \"password\": \"$PASSWORD\", \"staff_roles\": $3}" \
		"$HUB_URL/admin/v1/realms/$1/users" >/dev/null
}
console() { # console SLUG: a first-party client allowed the admin scope; prints id and secret
	curl -s "${ADMIN[@]}" -d "{\"name\": \"admin console\", \"grant_types\": [\"authorization_code\"],
		\"redirect_uris\": [\"$REDIRECT\"], \"scopes\": [\"openid\", \"admin\"], \"first_party\": true}" \
		"$HUB_URL/admin/v1/realms/$1/clients" | jq -r '.client_id + " " + .client_secret'
}
# staff_token SLUG USERNAME: logs in at the admin console client; prints the access token.
staff_token() { resident_token "$1" "$2" "openid admin" "${CONSOLE[$1]}"; }

user chofu chofu-admin '["tenant-admin"]'
user chofu chofu-auditor '["auditor"]'
user chofu chofu-resident '[]'
declare -A CONSOLE=([chofu]="$(console chofu)")
ADMIN_TOKEN=$(staff_token chofu chofu-admin)
AUDITOR_TOKEN=$(staff_token chofu chofu-auditor)
RESIDENT_TOKEN=$(staff_token chofu chofu-resident)

as() { local token=$1; shift; http_status "$@" -H "Authorization: Bearer $token"; }
client='{"name": "booking site", "grant_types": ["authorization_code"], "redirect_uris": ["https://booking.example/cb"]}'
expect_eq "$(as "$ADMIN_TOKEN" "$HUB_URL/admin/v1/realms/chofu/clients" -d "$client")" 201 \
	"a tenant-admin of chofu creates a client in chofu"
expect_eq "$(as "$ADMIN_TOKEN" "$HUB_URL/admin/v1/realms/komae/clients" -d "$client")" 403 \
	"but not in komae"
expect_eq "$(curl -s -H "Authorization: Bearer $ADMIN_TOKEN" -d "$client" "$HUB_URL/admin/v1/realms/komae/clients" | jq -r .error)" \
	wrong_tenant "the refusal says why"
expect_eq "$(as "$ADMIN_TOKEN" "$HUB_URL/admin/v1/realms/komae/users")" 403 "nor read komae's accounts"
expect_eq "$(as "$AUDITOR_TOKEN" "$HUB_URL/admin/v1/realms/chofu/users")" 200 \
	"an auditor of chofu reads chofu's accounts"
expect_eq "$(curl -s -H "Authorization: Bearer $AUDITOR_TOKEN" -d "$client" "$HUB_URL/admin/v1/realms/chofu/clients" | jq -r .error)" \
	role_required "but an auditor changes nothing"
expect_eq "$(as "$RESIDENT_TOKEN" "$HUB_URL/admin/v1/realms/chofu/users")" 401 \
	"a resident's token is no admin credential"
expect_eq "$(as "$ADMIN_TOKEN" "$HUB_URL/admin/v1/tenants")" 401 \
	"hub-wide operations take the bootstrap token only"
# One signature character changed well inside it (the last one may carry only padding bits).
tampered=${ADMIN_TOKEN:0:${#ADMIN_TOKEN}-10}
tampered=$tampered$([[ ${ADMIN_TOKEN:${#ADMIN_TOKEN}-10:1} == A ]] && echo B || echo A)${ADMIN_TOKEN:${#ADMIN_TOKEN}-9}
expect_eq "$(as "$tampered" "$HUB_URL/admin/v1/realms/chofu/users")" 401 \
	"a tampered staff token is refused"

# AdminService over Connect (JSON): the same rules, as gRPC status codes and typed reasons.
connect() { # connect TOKEN METHOD JSON
	curl -s -H "Authorization: Bearer $1" -H 'Content-Type: application/json' -d "$3" \
		"$HUB_URL/renkei.v1.AdminService/$2"
}
expect_eq "$(connect "$ADMIN_TOKEN" ListAdapters '{"tenant": "chofu"}' | jq -r '.adapters | length')" 0 \
	"ListAdapters for its own tenant"
expect_eq "$(connect "$AUDITOR_TOKEN" ListAdapters '{"tenant": "132080"}' | jq -r '.adapters | length')" 0 \
	"by code too, and for an auditor"
expect_eq "$(connect "$ADMIN_TOKEN" ListAdapters '{"tenant": "komae"}' | jq -r .code)" \
	permission_denied "ListAdapters of another tenant is refused"
reason() { # reason TOKEN METHOD JSON: the typed reason header of the answer
	curl -s -D - -o /dev/null -H "Authorization: Bearer $1" -H 'Content-Type: application/json' \
		-d "$3" "$HUB_URL/renkei.v1.AdminService/$2" | tr -d '\r' | sed -n 's/^renkei-error-reason: //ip'
}
expect_eq "$(reason "$ADMIN_TOKEN" ListAdapters '{"tenant": "komae"}')" ERROR_REASON_WRONG_TENANT \
	"with the reason WRONG_TENANT"
expect_eq "$(reason "$AUDITOR_TOKEN" RegisterAdapter '{"tenant": "chofu", "name": "ownerdb", "endpoint": "http://127.0.0.1:9"}')" \
	ERROR_REASON_ROLE_REQUIRED "an auditor cannot register an adapter"
hub_stop
