-- wrk script: POST the same CDS Hooks body with a fresh JWT per request (each jti used once).
-- BENCH_BODY: file with the JSON body; BENCH_TOKENS: file with one token per line.
-- Threads take disjoint slices of the token list; done() prints BENCH_JSON with the percentiles.
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local f = assert(io.open(os.getenv("BENCH_BODY"), "r"))
  body = f:read("*a")
  f:close()
  tokens = {}
  for line in io.lines(os.getenv("BENCH_TOKENS")) do
    if #line > 0 then table.insert(tokens, line) end
  end
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
  index = id
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local language = os.getenv("BENCH_LANGUAGE") or ""
  if #language > 0 then wrk.headers["Accept-Language"] = language end
end

function request()
  local token = tokens[((index - 1) % #tokens) + 1]
  index = index + nthreads
  wrk.headers["Authorization"] = "Bearer " .. token
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout + summary.errors.status
  io.write(string.format(
    'BENCH_JSON {"p50": %.3f, "p95": %.3f, "p99": %.3f, "rps": %.2f, "requests": %d, "errors": %d}\n',
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests, errors))
end
