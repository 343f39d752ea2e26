-- tests/bench/oidc_get.lua — wrk script of tests/bench/oidc: GETs the URL, optionally paced.
--
-- wrk -s oidc_get.lua URL [-- DELAY_MS]
--   DELAY_MS  each connection waits this long before each request (a low-rate probe; wrk's
--             latency starts when the request is sent, so it excludes the wait); without it
--             requests follow each other as fast as the server answers
-- No request() or response() function: wrk sends one prebuilt request and does not parse
-- bodies (cheap for the load generator at tens of thousands of requests/s); it counts
-- statuses >= 400 in errors.status. done() prints one line:
--   RESULT ok=N bad=N duration_us=N p50_us=N p99_us=N sockerr=N socket=CONNECT/READ/WRITE/TIMEOUT
function init(args)
	local pause = tonumber(args[1] or "0")
	if pause > 0 then
		function delay()
			return pause
		end
	end
end

function done(summary, latency, _)
	local e = summary.errors
	io.write(string.format("RESULT ok=%d bad=%d duration_us=%d p50_us=%d p99_us=%d sockerr=%d socket=%d/%d/%d/%d\n",
		summary.requests - e.status, e.status, summary.duration, latency:percentile(50),
		latency:percentile(99), e.connect + e.read + e.write + e.timeout,
		e.connect, e.read, e.write, e.timeout))
end
