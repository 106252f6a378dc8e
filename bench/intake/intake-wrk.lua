-- wrk script of bench/intake-bench.sh: POST /api/leads with a new person per request, 2% repeats of an earlier one.
--
--   wrk -t16 -c16 -d60s -s bench/intake-wrk.lua http://127.0.0.1:5121 -- <base> <key> [<key> …]
--
-- One connection per thread (-t = -c): thread i sends everything with key i modulo the number of keys, so one key puts
-- all 16 connections on one workspace and 16 keys one connection on each of 16 workspaces. Person p of thread i is
-- i × 5,000,000 + base + n (n counts the thread's new people): email p<p>@intake.bench, French mobile +33 6 <p, 8 digits>
-- — a number range the seed never uses, so a new person matches nobody. A repeat sends an earlier person of the same
-- thread again (same email and phone): it must be flagged as a duplicate of that person's first lead. base keeps a
-- warm-up's people apart from the measured run's.
-- Prints the RESULT line of wrk-report.lua, plus the number of repeats sent.

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

local base, key, sent
-- A global, so that done() can read it from each thread.
repeats = 0

function init(args)
  base = tonumber(args[1])
  key = args[2 + (tid % (#args - 1))]
  sent, repeats = 0, 0
  math.randomseed(tid * 7919 + base + 17)
end

function request()
  local n
  if sent > 50 and math.random() < 0.02 then
    n = math.random(0, sent - 1)
    repeats = repeats + 1
  else
    n = sent
    sent = sent + 1
  end
  local p = tid * 5000000 + base + n
  local body = string.format(
    '{"firstName":"Intake","lastName":"Person %d","email":"p%d@intake.bench","phone":"+33 6 %08d","company":"Bench Co %d"}',
    p, p, p, p % 997)
  return wrk.format("POST", "/api/leads", { ["Content-Type"] = "application/json", ["X-API-Key"] = key }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  local r = 0
  for _, t in ipairs(threads) do r = r + (t:get("repeats") or 0) end
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %d %.2f %d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, latency.mean / 1000, r))
end
