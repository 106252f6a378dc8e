-- wrk script for bench/intake/intake-bench.sh: POST /api/leads with a new person each request (an email unique per
-- thread and counter; phones may repeat, and are then flagged as duplicates like real ones), and one machine-readable
-- line at the end:
-- RESULT <req/s> <p50 ms> <p99 ms> <max ms> <requests> <non-2xx/3xx responses> <socket errors> <mean ms>
local threads = {}
local next_id = 0

function setup(thread)
  next_id = next_id + 1
  thread:set("id", next_id)
  table.insert(threads, thread)
end

local counter = 0
function request()
  counter = counter + 1
  local body = string.format(
    '{"firstName":"Intake","lastName":"T%d N%d","email":"t%d-%d@%s.intake.test","phone":"+1415%d%06d","company":"Bench %d"}',
    id, counter, id, counter, run, 2 + counter % 8, (id * 7919 + counter) % 1000000, counter % 97)
  return wrk.format("POST", "/api/leads", { ["Content-Type"] = "application/json", ["X-API-Key"] = key }, body)
end

function init(args)
  key = args[1]
  run = args[2]
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %d %.2f\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, latency.mean / 1000))
end
