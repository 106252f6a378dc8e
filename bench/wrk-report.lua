-- Prints one machine-readable line after a wrk run (list-bench.sh parses it):
-- RESULT <req/s> <p50 ms> <p99 ms> <max ms> <requests> <non-2xx/3xx responses> <socket errors> <mean ms>
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %d %.2f\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout, latency.mean / 1000))
end
