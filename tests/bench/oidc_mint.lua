-- tests/bench/oidc_mint.lua — wrk script of tests/bench/oidc: mints authorization codes by
-- GETting the authorization endpoint with a logged-in session, and saves them.
--
-- wrk -s oidc_mint.lua URL -- PKCEFILE OUTPREFIX
--   URL        the authorization request without state and code_challenge (they are added)
--   PKCEFILE   lines "VERIFIER CHALLENGE" (S256); request n uses line n mod lines, and sends
--              the line's number as state, so the answer names its verifier
--   OUTPREFIX  thread i appends "CODE VERIFIER" lines to OUTPREFIX.i
-- The session cookie comes from wrk -H "Cookie: …". A good answer is a 302 or 303 whose
-- Location carries code= and the state sent. done() prints one line:
--   RESULT ok=N bad=N duration_us=N p50_us=N p99_us=N sockerr=N socket=CONNECT/READ/WRITE/TIMEOUT bad_sample=…
local threads = {}
local verifiers, challenges, n, out, unflushed = {}, {}, 0, nil, 0

ok, bad, bad_sample, tid = 0, 0, "", 0

function setup(thread)
	thread:set("tid", #threads)
	table.insert(threads, thread)
end

function init(args)
	for line in io.lines(args[1]) do
		local v, c = line:match("^(%S+) (%S+)$")
		table.insert(verifiers, v)
		table.insert(challenges, c)
	end
	out = assert(io.open(args[2] .. "." .. tid, "w"))
end

function request()
	n = n % #challenges + 1
	return wrk.format(nil, wrk.path .. "&state=" .. n .. "&code_challenge=" .. challenges[n])
end

function response(status, headers, body)
	local loc = headers["location"] or headers["Location"] or ""
	local code = loc:match("[?&]code=([^&]+)")
	local state = tonumber(loc:match("[?&]state=(%d+)") or "")
	if (status == 302 or status == 303) and code and state and verifiers[state] then
		ok = ok + 1
		out:write(code, " ", verifiers[state], "\n")
		unflushed = unflushed + 1
		if unflushed >= 64 then -- written in blocks; the last partial block may be lost
			out:flush()
			unflushed = 0
		end
	else
		bad = bad + 1
		if bad_sample == "" then
			bad_sample = status .. " " .. (loc ~= "" and loc or tostring(body)):sub(1, 160):gsub("%s+", " ")
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
