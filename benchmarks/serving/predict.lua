-- wrk: POST the body in $BENCH_BODY (a file) with $BENCH_AUTH as the Authorization header (when set).
-- With $BENCH_RATE (requests per second per connection... see README) each connection waits between
-- requests so the whole run offers about that rate: wrk's --latency then reports a rate-limited run.
local f = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("BENCH_AUTH")
if auth and #auth > 0 then wrk.headers["Authorization"] = auth end
local rate = tonumber(os.getenv("BENCH_RATE") or "0")
local connections = tonumber(os.getenv("BENCH_CONNECTIONS") or "1")
local gap = 0
if rate > 0 then gap = 1000.0 * connections / rate end
function delay()
  if gap > 0 then return gap end
  return 0
end
done = function(summary, latency, requests)
  io.write(string.format("BENCH requests=%d seconds=%.3f errors=%d non2xx=%d p50=%.3f p95=%.3f p99=%.3f\n",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
