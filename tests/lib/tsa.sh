# tests/lib/tsa.sh — a local RFC 3161 time-stamping authority for the shell tests and the
# quickstart: a throw-away CA and TSA certificate made with openssl, served over HTTP by
# tests/lib/tsa_server.py (which has `openssl ts -reply` sign each answer).
# shellcheck shell=bash

TSA_PID=

# tsa_make DIR [DAYS]: a CA (DIR/ca.pem: what exchange.tsa_ca_file names) and a TSA key and
# certificate (extendedKeyUsage timeStamping, critical), valid for DAYS (30), with the openssl ts
# configuration DIR/tsa.cnf.
tsa_make() {
	local dir=$1 days=${2:-30}
	mkdir -p "$dir"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days "$days" \
		-keyout "$dir/ca.key" -out "$dir/ca.pem" -subj "/CN=Renkei test TSA CA" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$dir/tsa.key" -out "$dir/tsa.csr" -subj "/CN=Renkei test TSA" 2>/dev/null
	printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=critical,timeStamping\n' \
		>"$dir/tsa.ext"
	openssl x509 -req -in "$dir/tsa.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial \
		-days "$days" -extfile "$dir/tsa.ext" -out "$dir/tsa.pem" 2>/dev/null
	echo 01 >"$dir/serial"
	cat >"$dir/tsa.cnf" <<CNF
[ tsa ]
default_tsa = renkei_test_tsa
[ renkei_test_tsa ]
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.3.6.1.4.1.99999.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = no
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
CNF
}

# tsa_start DIR [PORT]: serves the TSA of DIR (on PORT, or a free one); sets TSA_PID, TSA_PORT
# and TSA_URL.
tsa_start() {
	local dir=$1 i
	rm -f "$dir/port"
	python3 "$RENKEI_SOURCE_DIR/tests/lib/tsa_server.py" "$dir" "$dir/port" ${2:+"$2"} &
	TSA_PID=$!
	for i in $(seq 1 100); do
		[[ -s $dir/port ]] && break
		sleep 0.05
	done
	[[ -s $dir/port ]] || { echo "the test TSA did not start" >&2; return 1; }
	TSA_PORT=$(cat "$dir/port")
	TSA_URL=http://127.0.0.1:$TSA_PORT/tsa
}

# tsa_stop: ends the TSA started last.
tsa_stop() {
	if [[ -n $TSA_PID ]]; then
		kill "$TSA_PID" 2>/dev/null || true
		wait "$TSA_PID" 2>/dev/null || true
		TSA_PID=
	fi
}
