# pupil_test.sh — pupil IDs (the 江東区 model) end to end: renkeid on the real PostgreSQL of
# tests/run with the tenants of tenants/, and 清瀬市's e-library (renkei-adapter-elibrary, its
# demo titles, a database of its own) registered at kiyose.
#   - `renkeictl pupil issue`: a pupil ID (p + ten digits) and a 12-character initial password,
#     age band elementary, valid until 31 March (JST) of the year the pupil leaves 中学校,
#     computed here from the grade; a grade the school does not have, a school that is not a
#     小学校/中学校/義務教育学校 and an unknown field are refused naming the field, and change
#     nothing;
#   - `renkeictl pupil import` of a roster: malformed rows and rows the hub refuses are reported
#     as FILE:LINE naming the field, the rest are issued;
#   - the pupil logs in with the hub's OIDC like any resident; userinfo carries age_band only to
#     a client allowed the age_band scope, and no birth date;
#   - the e-library: the pupil borrows with no library card (linked by PUPIL_ID), the age band
#     reaches the adapter — an adult-only title is refused AGE_RESTRICTED (ja and en), lent to an
#     adult resident — and the pupils' loan limit (3) applies;
#   - the e-library's own site (a relying party of the hub, driven with curl and cookie jars):
#     the pupil, logged in at the hub, reaches "my e-library" with no password asked again and
#     sees the age band and the loans made through the hub, not the adult-only title (refused
#     at checkout); an adult resident alike, with her loan; the callback in another browser, a
#     tampered state, another iss, a tampered code and a replay are refused; logout ends the
#     session and goes on to the hub's end_session; ID tokens from a provider that mints bad
#     ones (fake_op.py: a bad signature, a tampered payload, another aud, nonce or iss, expired,
#     alg none, an unknown kid) are refused, a well-made one accepted;
#   - a pupil past valid_until cannot log in (the page says why), and the browser's SSO session
#     no longer counts.
# Every process must exit 0 on SIGTERM (the sanitizers report through the exit status).
source "$RENKEI_SOURCE_DIR/tests/lib/hub.sh"
source "$RENKEI_SOURCE_DIR/tests/lib/sim.sh"

export RENKEI_PG
RENKEI_PG=$(fresh_db pupil_test)
ELIB_DB=$(fresh_db pupil_test_elibrary)
export RENKEI_TENANTS_DIR=$RENKEI_SOURCE_DIR/tenants
export RENKEI_ADMIN_TOKEN=test-admin-token-0123456789abcdef0123
export RENKEI_FEDERATION_ACTIVATION_TIMEOUT_MS=3000
hub_start
source "$RENKEI_SOURCE_DIR/tests/lib/resident.sh"

lib() { call_service LibraryService "$@"; }
pupils() { sql "$RENKEI_PG" "SELECT count(*) FROM rk_identity_pupil"; }

# --- the e-library, and its own site: a client of kiyose's realm ---------------------------------
WEB_PORT=$((20000 + RANDOM % 20000))
WEB=http://127.0.0.1:$WEB_PORT
read -r RP_ID RP_SECRET < <(curl -s "${ADMIN[@]}" -d "{\"name\": \"清瀬市電子図書館\", \"grant_types\": [\"authorization_code\"],
	\"redirect_uris\": [\"$WEB/callback\"], \"post_logout_redirect_uris\": [\"$WEB/\"],
	\"scopes\": [\"openid\", \"age_band\"], \"first_party\": true}" \
	"$HUB_URL/admin/v1/realms/kiyose/clients" | jq -r '.client_id + " " + .client_secret')
[[ -n $RP_SECRET ]] || fail "the e-library's site could not be registered as a client"
SITE=(RENKEI_ELIBRARY_WEB_PORT="$WEB_PORT" RENKEI_ELIBRARY_OIDC_ISSUER="$HUB_URL/t/kiyose"
	RENKEI_ELIBRARY_OIDC_CLIENT_ID="$RP_ID" RENKEI_ELIBRARY_OIDC_CLIENT_SECRET="$RP_SECRET")
# elib_start [VAR=value…]: an e-library process on a free port with those variables; sets
# ELIB_PORT and ELIB_PID.
elib_start() {
	for _ in 1 2 3 4 5; do
		ELIB_PORT=$((20000 + RANDOM % 20000))
		env "$@" RENKEI_ADAPTER_PORT=$ELIB_PORT RENKEI_ELIBRARY_PG="$ELIB_DB" "$RENKEI_BIN_DIR/renkei-adapter-elibrary" \
			--config "$RENKEI_SOURCE_DIR/adapters/elibrary/demo/kiyose.json" >>"$WORK/elib.log" 2>&1 &
		ELIB_PID=$!
		for _ in $(seq 1 100); do
			kill -0 "$ELIB_PID" 2>/dev/null || break
			if [[ $(http_status "http://127.0.0.1:$ELIB_PORT/healthz") == 200 ]]; then
				EXTRA_PIDS+=("$ELIB_PID")
				return 0
			fi
			sleep 0.1
		done
		wait "$ELIB_PID" 2>/dev/null || true
		grep -q 'cannot listen' "$WORK/elib.log" || fail "the e-library did not start: $(tail -n 5 "$WORK/elib.log")"
	done
	fail "no free port for the e-library"
}
elib_start "${SITE[@]}"
SITE1_PID=$ELIB_PID
expect_ok "register kiyose's e-library" adapter register --tenant kiyose --name elibrary-kiyose \
	--endpoint "http://127.0.0.1:$ELIB_PORT" --capability library_catalogue \
	--capability library_patrons --capability library_loans --capability elibrary
expect_eq "$(jq -r .adapter.state <<<"$OUT")" ADAPTER_STATE_ACTIVE "the e-library adapter is ACTIVE"

# --- issuing ------------------------------------------------------------------------------------
# The school year in JST (April to March) and the last day of a grade-5 pupil's ID.
read -r YEAR MONTH < <(TZ=Asia/Tokyo date +'%Y %-m')
SCHOOL_YEAR=$((MONTH >= 4 ? YEAR : YEAR - 1))
expect_ok "a tenant-admin issues a pupil ID" pupil issue --tenant kiyose --school 清瀬市立清瀬小学校 --grade 5
PUPIL=$(jq -r .pupil_id <<<"$OUT")
PUPIL_PASSWORD=$(jq -r .initial_password <<<"$OUT")
expect_match "$PUPIL $PUPIL_PASSWORD" '^p[0-9]{10} [a-z2-9]{12}$' "a pupil ID and a 12-character initial password"
expect_eq "$(jq -r '[.school, .age_band, .valid_until] | join(" ")' <<<"$OUT")" \
	"清瀬市立清瀬小学校 elementary $((SCHOOL_YEAR + 5))-03-31" "its school, age band and the March it ends (grade 5: four years on)"
expect_eq "$(sql "$RENKEI_PG" "SELECT position('$PUPIL_PASSWORD' IN a.password_hash) || ' ' || p.school
	FROM rk_identity_account a JOIN rk_identity_pupil p ON p.account_id = a.id WHERE a.username = '$PUPIL'")" \
	"0 清瀬市立清瀬小学校" "the hub keeps the password's hash only, and the school"
expect_ok "a 中学3年 pupil" pupil issue --tenant kiyose --school 清瀬市立清瀬中学校 --grade 3
expect_eq "$(jq -r '[.age_band, .valid_until] | join(" ")' <<<"$OUT")" \
	"lower_secondary $((SCHOOL_YEAR + 1))-03-31" "lower secondary, valid until the coming March"
SENIOR=$(jq -r .pupil_id <<<"$OUT")
SENIOR_PASSWORD=$(jq -r .initial_password <<<"$OUT")

BEFORE=$(pupils)
ctl pupil issue --tenant kiyose --school 清瀬市立清瀬小学校 --grade 7
expect_match "$RC $(jq -r .message <<<"$OUT")" '^1 grade: a 小学校 has grades 1 to 6$' "grade 7 at a 小学校 is refused naming the grade"
ctl pupil issue --tenant kiyose --school 清瀬市立図書館 --grade 1
expect_match "$RC $(jq -r .message <<<"$OUT")" '^1 school: must be the name of a 小学校, 中学校 or 義務教育学校' \
	"a school that is not a school is refused naming the school"
ctl pupil issue --tenant kiyose --school 清瀬市立清瀬中学校 --grade 0
expect_match "$RC $(jq -r .message <<<"$OUT")" '^1 grade: a 中学校 has grades 1 to 3$' "grade 0 is refused"
STATUS=$(curl -s -o "$WORK/out" -w '%{http_code}' "${ADMIN[@]}" -d '{"school": "清瀬市立清瀬小学校", "grade": 1, "birth_date": "2019-05-05"}' \
	"$HUB_URL/admin/v1/realms/kiyose/pupils")
expect_match "$STATUS $(jq -r .message "$WORK/out")" '^400 unknown field' "a birth date is not something the hub takes"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -d '{"school": "清瀬市立清瀬小学校", "grade": 1}' "$HUB_URL/admin/v1/realms/kiyose/pupils")
expect_eq "$STATUS" 401 "issuing needs the admin credential"
expect_eq "$(pupils)" "$BEFORE" "nothing was issued by the refused requests"

# A school board's roster: line 3 is malformed, line 4 asks a grade the school lacks, line 6 is
# short; lines 2 and 5 are issued.
printf '%s\n' 'school,grade,display_name' '清瀬市立芝山小学校,1,"清瀬 はなこ"' '清瀬市立芝山小学校,一,清瀬 たろう' \
	'清瀬市立清瀬第二中学校,4,清瀬 じろう' '清瀬市立清瀬第二中学校,2,"清瀬, さぶろう"' '清瀬市立芝山小学校' >"$WORK/roster.csv"
STATUS=0
"$CTL" --hub "$HUB_URL" pupil import --tenant kiyose "$WORK/roster.csv" >"$WORK/roster.out" 2>"$WORK/roster.err" || STATUS=$?
expect_eq "$STATUS" 1 "an import with refused rows exits 1"
expect_match "$(grep -c '' "$WORK/roster.out") $(cut -d, -f1 "$WORK/roster.out" | tr '\n' ' ')" '^3 line 2 5 $' \
	"the good rows are issued, one CSV line each"
expect_match "$(sed -n 3p "$WORK/roster.out")" '^5,p[0-9]{10},[a-z2-9]{12},清瀬市立清瀬第二中学校,8,lower_secondary,[0-9]{4}-03-31$' \
	"with the pupil ID, initial password, overall grade, age band and end"
expect_match "$(cat "$WORK/roster.err")" "roster.csv:3: grade: must be a whole number" "a malformed row is reported with FILE:LINE and the field"
expect_match "$(cat "$WORK/roster.err")" "roster.csv:4: .*grade: a 中学校 has grades 1 to 3" "a row the hub refuses too"
expect_match "$(cat "$WORK/roster.err")" "roster.csv:6: school, grade: the row has fewer columns" "and a short row"
expect_eq "$(pupils)" "$((BEFORE + 2))" "two pupils issued from the roster"
expect_eq "$(sql "$RENKEI_PG" "SELECT display_name FROM rk_identity_account a JOIN rk_identity_pupil p ON p.account_id = a.id
	WHERE p.school = '清瀬市立清瀬第二中学校'")" "清瀬, さぶろう" "a quoted name with a comma arrives whole"

# --- login and the age_band claim ---------------------------------------------------------------
resident_add kiyose kiyoko
CHILD_CLIENT=$(curl -s "${ADMIN[@]}" -d "{\"name\": \"school e-library\", \"grant_types\": [\"authorization_code\"],
	\"redirect_uris\": [\"$REDIRECT\"], \"scopes\": [\"openid\", \"age_band\"], \"first_party\": true}" \
	"$HUB_URL/admin/v1/realms/kiyose/clients" | jq -r '.client_id + " " + .client_secret')
PUPIL_TOKEN=$(PASSWORD=$PUPIL_PASSWORD resident_token kiyose "$PUPIL" "openid age_band" "$CHILD_CLIENT")
[[ $PUPIL_TOKEN == ey* ]] || fail "the pupil could not log in"
pass "the pupil logs in with the pupil ID and initial password"
USERINFO=$(curl -s -H "Authorization: Bearer $PUPIL_TOKEN" "$HUB_URL/t/kiyose/userinfo")
expect_eq "$(jq -r '[.age_band, .home_municipality] | join(" ")' <<<"$USERINFO")" "elementary 132217" \
	"userinfo tells a client allowed age_band the pupil's age band"
expect_eq "$(jq -r '[keys[] | select(test("birth"))] | length' <<<"$USERINFO")" 0 "and no birth date"
rm -f "$WORK/jar.$PUPIL" # resident_token logs in from a fresh browser
PLAIN_TOKEN=$(PASSWORD=$PUPIL_PASSWORD resident_token kiyose "$PUPIL")
expect_eq "$(curl -s -H "Authorization: Bearer $PLAIN_TOKEN" "$HUB_URL/t/kiyose/userinfo" | jq -r '.age_band // "none"')" none \
	"a client without the age_band scope is not told"
expect_match "$(curl -s "$HUB_URL/t/kiyose/.well-known/openid-configuration" | jq -c .scopes_supported)" '"age_band"' \
	"discovery lists the age_band scope"

# --- the e-library: no card, the age band, the pupils' limit ------------------------------------
work_of() {
	lib "" SearchCatalogue "{\"title\": \"$1\", \"municipalities\": [\"kiyose\"]}"
	jq -r '.results[0].work.id // ""' <<<"$OUT"
}
ADULT_TITLE=$(work_of 痴人の愛)
[[ -n $ADULT_TITLE ]] || fail "kiyose's e-library has no 痴人の愛: $OUT"
lib "$PUPIL_TOKEN" ElibraryCheckout "{\"workId\": \"$ADULT_TITLE\", \"library\": \"kiyose\"}" adult-1
expect_eq "$STATUS:$REASON" 403:LIBRARY_ERROR_AGE_RESTRICTED "an adult-only title is refused AGE_RESTRICTED"
expect_eq "$(jq -r '.details[0].debug.localizedMessage | [.ja, .en] | join(" / ")' <<<"$OUT")" \
	"この資料は年齢制限により利用できません。 / This item is not lent to your age group." "in Japanese and English"
expect_eq "$(sql "$RENKEI_PG" "SELECT p.method FROM rk_library_patron p JOIN rk_identity_account a ON a.id = p.account_id
	WHERE a.username = '$PUPIL'")" pupil_id "the pupil was linked to the e-library by the pupil ID, with no card"
lib "$PUPIL_TOKEN" ListMyPatronLinks '{}'
expect_eq "$(jq -r '.links[0].method' <<<"$OUT")" PATRON_LINK_METHOD_PUPIL_ID "ListMyPatronLinks says PUPIL_ID"

KIYOKO=$(resident_token kiyose kiyoko)
lib "$KIYOKO" LinkPatron '{"library": "kiyose", "cardNumber": "1322179001", "pin": "1234"}' link-kiyoko
expect_eq "$STATUS" 200 "an adult resident links her card"
lib "$KIYOKO" ElibraryCheckout "{\"workId\": \"$ADULT_TITLE\", \"library\": \"kiyose\"}" adult-2
expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_ACTIVE "and borrows the adult-only title"

N=0
for title in 吾輩は猫である 銀河鉄道の夜 羅生門 たけくらべ; do
	N=$((N + 1))
	lib "$PUPIL_TOKEN" ElibraryCheckout "{\"workId\": \"$(work_of "$title")\", \"library\": \"kiyose\"}" pupil-$N
	if ((N <= 3)); then
		expect_eq "$STATUS:$(jq -r .loan.state <<<"$OUT")" 200:LOAN_STATE_ACTIVE "the pupil borrows $title"
	else
		expect_eq "$STATUS:$REASON" 429:LIBRARY_ERROR_LOAN_LIMIT_REACHED "a fourth e-book: the pupils' limit is 3"
	fi
done
expect_eq "$(sql "$ELIB_DB" "SELECT count(*) FROM elibrary.loan l JOIN elibrary.patron p USING (municipality, patron_id)
	WHERE p.card_hash IS NULL AND l.returned_at IS NULL")" 3 "the e-library holds the pupil's three loans"

# --- one login: the e-library's own site (a relying party of the hub) ---------------------------
# rp_get JAR URL: GET following redirects with the browser's cookie jar; sets PAGE, STATUS, WHERE.
rp_get() {
	local out
	out=$(curl -s -L --max-redirs 6 -c "$1" -b "$1" -o "$WORK/rp.html" -w '%{http_code} %{url_effective}' "$2")
	STATUS=${out%% *}
	WHERE=${out#* }
	PAGE=$(cat "$WORK/rp.html")
}
callback_url() { # callback_url JAR: a login started at the site, passed through the hub's SSO
	local authorize
	authorize=$(curl -s -o /dev/null -c "$1" -b "$1" -w '%{redirect_url}' "$WEB/login")
	curl -s -o /dev/null -c "$1" -b "$1" -w '%{redirect_url}' "$authorize"
}
PUPIL_JAR=$WORK/jar.$PUPIL # logged in at the hub above (resident_token)
rp_get "$PUPIL_JAR" "$WEB/"
expect_match "$STATUS $PAGE" '^200 .*id="login"' "logged out, the site offers the hub's login"
rp_get "$PUPIL_JAR" "$WEB/login"
expect_eq "$STATUS $WHERE" "200 $WEB/" "the pupil, logged in at the hub, reaches my e-library through the hub"
[[ $PAGE != *'name="password"'* ]] || fail "the pupil was asked for a password again"
pass "with no password typed again"
expect_match "$PAGE" 'id="age-band">児童・生徒ID（小学生）' "the page knows the pupil's age band from the ID token"
expect_match "$PAGE" '吾輩は猫である.*銀河鉄道の夜.*羅生門|羅生門.*銀河鉄道の夜' "and lists the loans made through the hub"
[[ $PAGE != *痴人の愛* ]] || fail "a pupil's page shows the adult-only title"
pass "a pupil's page does not show the adult-only title"
expect_match "$(grep -i '^set-cookie: el_session' <(curl -s -D - -o /dev/null -c "$WORK/peek.jar" -b "$PUPIL_JAR" "$WEB/login" -L --max-redirs 2) | tr -d '\r')" \
	'HttpOnly; SameSite=Lax$' "the session cookie is HttpOnly and SameSite=Lax (no Secure over http)"
CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$PAGE" | head -1)
STATUS=$(curl -s -o "$WORK/rp.html" -w '%{http_code}' -b "$PUPIL_JAR" --data-urlencode "csrf=$CSRF" --data-urlencode record_id=E0006 "$WEB/checkout")
expect_match "$STATUS $(cat "$WORK/rp.html")" '^403 .*年齢制限' "borrowing the adult-only title at the site: AGE_RESTRICTED"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$PUPIL_JAR" --data-urlencode "csrf=forged" --data-urlencode record_id=E0002 "$WEB/checkout")
expect_eq "$STATUS" 403 "a form without the session's CSRF token is refused"

KIYOKO_JAR=$WORK/jar.kiyoko
rp_get "$KIYOKO_JAR" "$WEB/login"
expect_eq "$STATUS $WHERE" "200 $WEB/" "an adult resident reaches it the same way"
expect_match "$PAGE" 'id="loans">.*痴人の愛' "and sees her loan of the adult-only title, borrowed with her card through the hub"
[[ $PAGE != *'id="age-band"'* ]] || fail "an adult's page shows an age band"
pass "with no age band"
KIYOKO_CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$PAGE" | head -1)
LENT=$(curl -s -o /dev/null -w '%{http_code}' -b "$KIYOKO_JAR" --data-urlencode "csrf=$KIYOKO_CSRF" --data-urlencode record_id=E0003 "$WEB/checkout")
rp_get "$KIYOKO_JAR" "$WEB/"
expect_match "$LENT $PAGE" '^303 .*id="loans">.*羅生門.*</table>.*id="titles">.*羅生門</td><td>芥川龍之介</td><td>借りています' \
	"she borrows 羅生門 at the site itself: in her loans, and marked on loan among the titles"
lib "$KIYOKO" ListMyLoans '{}'
expect_match "$(jq -r '[.loans[].work.title.ja] | join(" ")' <<<"$OUT")" '羅生門' "and the hub's one list of loans shows it too"
STATUS=$(curl -s -o "$WORK/rp.html" -w '%{http_code}' -b "$PUPIL_JAR" --data-urlencode "csrf=$CSRF" --data-urlencode record_id=E0005 "$WEB/checkout")
expect_match "$STATUS $(cat "$WORK/rp.html")" '^429 .*同時に借りられる冊数' "the pupil, at three loans, is refused a fourth at the site too"
for _ in $(seq 20); do # browsers that leave while the site waits for the database or the hub
	curl -s -o /dev/null -m 0.005 -b "$KIYOKO_JAR" "$WEB/" || true
	curl -s -o /dev/null -m 0.005 -b "$KIYOKO_JAR" "$(callback_url "$KIYOKO_JAR")" || true
done
rp_get "$KIYOKO_JAR" "$WEB/"
expect_match "$STATUS $PAGE" '^200 .*id="who"' "browsers leaving mid-request leave the site answering"

# The callback's checks: state bound to this browser and used once, the realm as iss.
CALLBACK=$(callback_url "$PUPIL_JAR")
expect_match "$CALLBACK" "^$WEB/callback\?code=.*state=.*iss=" "the hub answers the site's authorization request at once (SSO)"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$KIYOKO_JAR" "$CALLBACK")
expect_eq "$STATUS" 400 "the callback in another browser (not its state cookie) is refused"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$PUPIL_JAR" "${CALLBACK/state=/state=x}")
expect_eq "$STATUS" 400 "a tampered state is refused"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$PUPIL_JAR" "${CALLBACK%%&iss=*}&iss=http%3A%2F%2Fevil.example%2Ft%2Fkiyose")
expect_eq "$STATUS" 400 "an answer naming another issuer is refused"
CALLBACK=$(callback_url "$PUPIL_JAR")
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$PUPIL_JAR" -c "$PUPIL_JAR" "$CALLBACK")
expect_eq "$STATUS" 303 "the callback completes once"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$PUPIL_JAR" "$CALLBACK")
expect_eq "$STATUS" 400 "and is refused when replayed"
CALLBACK=$(callback_url "$PUPIL_JAR")
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -b "$PUPIL_JAR" "${CALLBACK/code=/code=x}")
expect_eq "$STATUS" 400 "a tampered code is refused (the hub does not redeem it)"
grep -q "$RP_SECRET" "$WORK/elib.log" "$HUB_LOG" && fail "the client secret reached a log"
pass "no log holds the site's client secret"

rp_get "$PUPIL_JAR" "$WEB/"
CSRF=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' <<<"$PAGE" | head -1)
LOCATION=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$PUPIL_JAR" -c "$PUPIL_JAR" --data-urlencode "csrf=$CSRF" "$WEB/logout")
expect_match "$LOCATION" "^$HUB_URL/t/kiyose/logout\?id_token_hint=ey[^&]+&post_logout_redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A$WEB_PORT%2F$" \
	"logout ends the site's session and goes on to the hub's end_session"
rp_get "$PUPIL_JAR" "$WEB/"
expect_match "$PAGE" 'id="login"' "the site's session is over"

# ID tokens the site must refuse, from a provider that mints them (fake_op.py) for a second
# site process: only the good one begins a session.
OP_PORT=$((20000 + RANDOM % 20000))
WEB2_PORT=$((20000 + RANDOM % 20000))
echo good >"$WORK/op.mode"
python3 "$RENKEI_SOURCE_DIR/tests/integration/fake_op.py" "$OP_PORT" "http://127.0.0.1:$OP_PORT/t/kiyose" fake-client \
	"$WORK/op.mode" >>"$WORK/op.log" 2>&1 &
EXTRA_PIDS+=("$!")
for _ in $(seq 1 50); do
	[[ $(http_status "http://127.0.0.1:$OP_PORT/t/kiyose/jwks") == 200 ]] && break
	sleep 0.1
done
elib_start RENKEI_ELIBRARY_WEB_PORT="$WEB2_PORT" RENKEI_ELIBRARY_OIDC_ISSUER="http://127.0.0.1:$OP_PORT/t/kiyose" \
	RENKEI_ELIBRARY_OIDC_CLIENT_ID=fake-client RENKEI_ELIBRARY_OIDC_CLIENT_SECRET=fake-secret
SITE2_PID=$ELIB_PID
for mode in good bad_signature tampered_payload wrong_aud wrong_nonce expired wrong_iss alg_none unknown_kid; do
	echo "$mode" >"$WORK/op.mode"
	rp_get "$WORK/op.jar.$mode" "http://127.0.0.1:$WEB2_PORT/login"
	if [[ $mode == good ]]; then
		expect_match "$STATUS $PAGE" '^200 .*id="age-band"' "a well-made ID token begins a session"
	else
		expect_match "$STATUS $PAGE" '^400 .*ログインできませんでした' "an ID token with $mode is refused"
	fi
done
kill -TERM "$SITE2_PID"
STATUS=0
wait "$SITE2_PID" || STATUS=$?
expect_eq "$STATUS" 0 "the second site exits 0 after SIGTERM"

# --- the end of a pupil ID ----------------------------------------------------------------------
# login_as USERNAME PASSWORD JAR [CLIENT SCOPE]: the login form posted as a browser would, for
# CLIENT ("id secret", default the realm's test client) with PKCE verifier $VERIFIER; sets
# LOCATION (the redirect, if any) and PAGE (the page, if any).
VERIFIER=$(printf 'v%.0s' $(seq 43))
CHALLENGE=$(printf %s "$VERIFIER" | openssl dgst -sha256 -binary | openssl base64 -A | tr '+/' '-_' | tr -d =)
login_as() {
	local id secret tx csrf scope=${5:-openid}
	read -r id secret <<<"${4:-${CLIENT[kiyose]}}"
	LOCATION=$(curl -s -c "$3" -b "$3" -o "$WORK/authorize.html" -w '%{redirect_url}' \
		"$HUB_URL/t/kiyose/authorize?client_id=$id&redirect_uri=$REDIRECT&response_type=code&scope=${scope// /%20}&code_challenge=$CHALLENGE&code_challenge_method=S256&state=s")
	PAGE=
	[[ -z $LOCATION ]] || return 0 # the SSO session answered
	tx=$(sed -n 's/.*name="tx" value="\([^"]*\)".*/\1/p' "$WORK/authorize.html" | head -1)
	csrf=$(sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' "$WORK/authorize.html" | head -1)
	PAGE=$(curl -s -c "$3" -b "$3" -D "$WORK/login.head" --data-urlencode "tx=$tx" --data-urlencode "csrf=$csrf" \
		--data-urlencode "username=$1" --data-urlencode "password=$2" "$HUB_URL/t/kiyose/login")
	LOCATION=$(tr -d '\r' <"$WORK/login.head" | sed -n 's/^location: //ip')
}
login_as "$SENIOR" "$SENIOR_PASSWORD" "$WORK/senior.jar"
expect_match "$LOCATION" '[?&]code=' "the 中学3年 pupil logs in before the end of March"
login_as "$SENIOR" "$SENIOR_PASSWORD" "$WORK/senior.jar"
expect_match "$LOCATION" '[?&]code=' "and the browser's SSO session answers at once"
# A client with refresh tokens (as the portal has): they must stop with the pupil ID.
LONG_CLIENT=$(curl -s "${ADMIN[@]}" -d "{\"name\": \"portal-like\", \"grant_types\": [\"authorization_code\", \"refresh_token\"],
	\"redirect_uris\": [\"$REDIRECT\"], \"scopes\": [\"openid\", \"offline_access\"], \"first_party\": true}" \
	"$HUB_URL/admin/v1/realms/kiyose/clients" | jq -r '.client_id + " " + .client_secret')
login_as "$SENIOR" "$SENIOR_PASSWORD" "$WORK/senior.jar" "$LONG_CLIENT" "openid offline_access"
TOKENS=$(curl -s -u "${LONG_CLIENT/ /:}" -d grant_type=authorization_code -d "code=$(sed -n 's/.*[?&]code=\([^&]*\).*/\1/p' <<<"$LOCATION")" \
	-d "redirect_uri=$REDIRECT" -d "code_verifier=$VERIFIER" "$HUB_URL/t/kiyose/token")
REFRESH=$(jq -r '.refresh_token // ""' <<<"$TOKENS")
ACCESS=$(jq -r '.access_token // ""' <<<"$TOKENS")
[[ -n $REFRESH && -n $ACCESS ]] || fail "no refresh token for the pupil: $TOKENS"
expect_eq "$(http_status "$HUB_URL/t/kiyose/userinfo" -H "Authorization: Bearer $ACCESS")" 200 "the pupil's access token reaches userinfo"
sql "$RENKEI_PG" "UPDATE rk_identity_pupil SET valid_until = make_date(rk_school_year(now()), 3, 31)
	WHERE account_id = (SELECT id FROM rk_identity_account WHERE username = '$SENIOR')" >/dev/null
login_as "$SENIOR" "$SENIOR_PASSWORD" "$WORK/senior.jar"
expect_eq "$LOCATION" "" "after the March the pupil left 中学校, the SSO session no longer counts"
expect_match "$PAGE" '利用期間が終わりました' "and the login is refused saying why"
STATUS=$(curl -s -o "$WORK/out" -w '%{http_code}' -u "${LONG_CLIENT/ /:}" -d grant_type=refresh_token \
	--data-urlencode "refresh_token=$REFRESH" "$HUB_URL/t/kiyose/token")
expect_match "$STATUS $(jq -r '.error + ": " + .error_description' "$WORK/out")" '^400 invalid_grant: the pupil ID ended' \
	"its refresh token no longer refreshes"
expect_eq "$(http_status "$HUB_URL/t/kiyose/userinfo" -H "Authorization: Bearer $ACCESS")" 401 "and its grant is no longer live (userinfo)"
login_as "$SENIOR" "wrong-password" "$WORK/senior-2.jar"
[[ $PAGE != *'利用期間'* ]] || fail "a wrong password learned that the pupil ID ended"
pass "a wrong password is not told the ID ended"
expect_eq "$(sql "$RENKEI_PG" "SELECT rk_identity_age_band(id) IS NULL FROM rk_identity_account WHERE username = '$SENIOR'")" t \
	"an ended pupil ID has no age band"

kill -TERM "$SITE1_PID"
STATUS=0
wait "$SITE1_PID" || STATUS=$?
expect_eq "$STATUS" 0 "the e-library exits 0 after SIGTERM"
hub_stop
pass "renkeid exits 0 after SIGTERM"
