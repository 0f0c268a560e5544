-- wrk script for scripts/bench.sh (bench/run.mjs sets these variables):
--   BENCH_METHOD  GET (default), PUT or POST
--   BENCH_KEY     the X-Filerobot-Key header, if any
--   BENCH_BODY    the request body, if any (wrk sends Content-Length)
--   BENCH_CONTENT_TYPE  its Content-Type header, if any (a JSON or multipart body)
--   BENCH_IPS     if > 0, cycle CF-Connecting-IP through that many addresses
--                 of 198.18.0.0/15 (RFC 2544 benchmarking range; only a header
--                 value, nothing is sent there)
-- Requests are built once in init() and replayed, so wrk does no per-request
-- work beyond picking the next one. done() prints one machine-readable line.
local method = os.getenv("BENCH_METHOD") or "GET"
local key = os.getenv("BENCH_KEY")
local body = os.getenv("BENCH_BODY")
local content_type = os.getenv("BENCH_CONTENT_TYPE")
local ips = tonumber(os.getenv("BENCH_IPS") or "0")
local reqs = {}
local n = 0

function init(args)
  wrk.method = method
  if body then wrk.body = body end
  if key then wrk.headers["X-Filerobot-Key"] = key end
  if content_type then wrk.headers["Content-Type"] = content_type end
  if ips > 0 then
    for i = 1, ips do
      wrk.headers["CF-Connecting-IP"] = string.format("198.18.%d.%d", math.floor(i / 256), i % 256)
      reqs[i] = wrk.format()
    end
  else
    reqs[1] = wrk.format()
  end
end

function request()
  n = n % #reqs + 1
  return reqs[n]
end

function done(s, latency, requests)
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50_us":%d,"p99_us":%d,"mean_us":%.1f,"max_us":%d}\n',
    s.requests, s.duration, s.errors.connect, s.errors.read, s.errors.write, s.errors.status, s.errors.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean, latency.max))
end
