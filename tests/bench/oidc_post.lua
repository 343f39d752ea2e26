-- tests/bench/oidc_post.lua — wrk script of tests/bench/oidc: POSTs one form body over and
-- over and checks every answer.
--
-- wrk -s oidc_post.lua URL -- STATUS CHECK BODYFILE
--   STATUS    the status every answer must have (200 for /token, 303 for the login form)
--   CHECK     "body:TEXT" (the body must contain TEXT) or "location:TEXT" (the Location
--             header must contain TEXT)
--   BODYFILE  a file holding the application/x-www-form-urlencoded body
-- Other headers (Authorization, Cookie) come from wrk -H. done() prints one line:
--   RESULT ok=N bad=N duration_us=N p50_us=N p99_us=N sockerr=N socket=CONNECT/READ/WRITE/TIMEOUT bad_sample=…
local threads = {}
local want_status, check_where, check_text

ok, bad, bad_sample = 0, 0, ""

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	want_status = tonumber(args[1])
	check_where, check_text = args[2]:match("^(%a+):(.*)$")
	local f = assert(io.open(args[3], "rb"))
	-- No request() function: wrk builds this one request once and sends it again and again.
	wrk.method = "POST"
	wrk.body = f:read("*a")
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
	f:close()
end

function response(status, headers, body)
	local seen
	if check_where == "location" then
		seen = headers["location"] or headers["Location"] or ""
	else
		seen = body or ""
	end
	if status == want_status and seen:find(check_text, 1, true) then
		ok = ok + 1
	else
		bad = bad + 1
		if bad_sample == "" then
			bad_sample = status .. " " .. tostring(body):sub(1, 160):gsub("%s+", " ")
		end
	end
end

function done(summary, latency, _)
	local o, b, sample = 0, 0, ""
	for _, t in ipairs(threads) do
		o = o + t:get("ok")
		b = b + t:get("bad")
		if sample == "" then
			sample = t:get("bad_sample")
		end
	end
	local e = summary.errors
	io.write(string.format("RESULT ok=%d bad=%d duration_us=%d p50_us=%d p99_us=%d sockerr=%d socket=%d/%d/%d/%d bad_sample=%s\n",
		o, b, summary.duration, latency:percentile(50), latency:percentile(99),
		e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout, sample))
end
