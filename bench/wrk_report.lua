-- wrk script for bench/loadgen.py: GET the paths listed in a file (one per line),
-- in turn, and print one JSON line with the summary and latency percentiles.
--   wrk -t1 -c16 -d10s -s wrk_report.lua http://127.0.0.1:PORT -- PATHS_FILE [no-cache]

local paths = {}
local index = 0

function init(args)
  -- Second argument "no-cache": ask the server to answer afresh (no response cache).
  if args[2] == "no-cache" then
    wrk.headers["Cache-Control"] = "no-cache"
  end
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  file:close()
  assert(#paths > 0, "no paths in " .. args[1])
end

function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us": %d, "requests": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"min": %d, "mean": %.1f, "max": %d, "p50": %d, "p90": %d, ' ..
    '"p95": %d, "p99": %d}}\n',
    summary.duration, summary.requests, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.mean, latency.max,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99)))
end
