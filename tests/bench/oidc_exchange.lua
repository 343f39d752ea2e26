-- tests/bench/oidc_exchange.lua — wrk script of tests/bench/oidc: redeems authorization
-- codes at the token endpoint, each code exactly once, with its PKCE verifier.
--
-- wrk -t T -s oidc_exchange.lua TOKEN_URL -- CODEFILE T REDIRECT_URI
--   CODEFILE      lines "CODE VERIFIER" (from oidc_mint.lua); thread i takes lines i, i+T, …
--   T             the number of wrk threads (-t)
--   REDIRECT_URI  form-encoded, as in the authorization request
-- Client authentication comes from wrk -H "Authorization: Basic …". A good answer is a 200
-- with an id_token. A thread stops when it has sent its last code (answers still in flight
-- then are not counted), so the run may end before wrk's -d: the rate is measured here
-- (first request to last answer, monotonic clock through LuaJIT's FFI), not by wrk.
-- done() prints one line:
--   RESULT ok=N bad=N duration_us=N p50_us=N p99_us=N sockerr=N sent=N codes=N socket=CONNECT/READ/WRITE/TIMEOUT bad_sample=…
local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } rk_bench_timespec;
int clock_gettime(int clock, rk_bench_timespec *ts);
]])
local ts = ffi.new("rk_bench_timespec")
local function now_us()
	ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
	return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local threads = {}
local bodies = {}

ok, bad, bad_sample, tid, sent, codes, t_first, t_last = 0, 0, "", 0, 0, 0, 0, 0

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

function init(args)
	local nthreads = tonumber(args[2])
	local i = 0
	for line in io.lines(args[1]) do
		if i % nthreads == tid then
			local code, verifier = line:match("^(%S+) (%S+)$")
			if code then
				table.insert(bodies, "grant_type=authorization_code&code=" .. code ..
					"&code_verifier=" .. verifier .. "&redirect_uri=" .. args[3])
			end
		end
		i = i + 1
	end
	codes = #bodies
	wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

function request()
	if sent == 0 then
		t_first = now_us()
	end
	sent = sent + 1
	if sent == #bodies then
		wrk.thread:stop() -- the last code: the loop ends after this round
	end
	-- Past the last code (other connections of this round): an unknown code, never a
	-- second use of a real one (that revokes its grant, and with it other codes).
	return wrk.format("POST", nil, nil, bodies[sent] or "grant_type=authorization_code&code=spent")
end

function response(status, headers, body)
	t_last = now_us()
	if status == 200 and body:find('"id_token"', 1, true) then
		ok = ok + 1
	elseif sent > #bodies then
		-- this thread has sent all its codes: the answer may be to an unknown code; ignored
	else
		bad = bad + 1
		if bad_sample == "" then
			bad_sample = status .. " " .. tostring(body):sub(1, 160):gsub("%s+", " ")
		end
	end
end

function done(summary, latency, _)
	local o, b, s, c, first, last, sample = 0, 0, 0, 0, math.huge, 0, ""
	for _, t in ipairs(threads) do
		o = o + t:get("ok")
		b = b + t:get("bad")
		s = s + t:get("sent")
		c = c + t:get("codes")
		if t:get("sent") > 0 then
			first = math.min(first, t:get("t_first"))
			last = math.max(last, t:get("t_last"))
		end
		if sample == "" then
			sample = t:get("bad_sample")
		end
	end
	local duration = (last > first) and (last - first) or summary.duration
	local e = summary.errors
	io.write(string.format("RESULT ok=%d bad=%d duration_us=%d p50_us=%d p99_us=%d sockerr=%d sent=%d codes=%d socket=%d/%d/%d/%d bad_sample=%s\n",
		o, b, duration, latency:percentile(50), latency:percentile(99),
		e.connect + e.read + e.write + e.timeout, s, c, e.connect, e.read, e.write, e.timeout, sample))
end
