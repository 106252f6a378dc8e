-- A paced load for wrk: each connection waits a fixed think time between a response and its next request, so the
-- offered rate stays well below what the service can do (a realistic interactive load) instead of saturating the CPU
-- as wrk's closed loop does. First script argument: the think time in ms (default 10), e.g.
--   wrk -t2 -c4 -d30s --latency -s bench/wrk-paced.lua URL -- 10
-- Prints the same RESULT line as wrk-report.lua (whose done() it loads); wrk's latency excludes the think time.
local dir = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(dir .. "wrk-report.lua")

local think = 10
init = function(args)
  if args[1] then think = tonumber(args[1]) end
end
delay = function()
  return think
end
