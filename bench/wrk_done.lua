-- wrk's done() for bench/reads.lua and bench/posts.lua: the latency histogram (percentiles
-- 0.1..100 by 0.1, in microseconds) and the request and error counts, as JSON to WRK_OUT.

return function(summary, latency, requests)
  local quantiles = {}
  for i = 1, 1000 do
    quantiles[i] = latency:percentile(i / 10)
  end
  local e = summary.errors
  local out = assert(io.open(os.getenv("WRK_OUT"), "w"))
  out:write(string.format(
    '{"requests": %d, "duration_us": %d, "non2xx": %d, "socket_errors": %d, "timeouts": %d, ' ..
    '"max_us": %d, "quantiles_us": [%s]}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write, e.timeout,
    latency.max, table.concat(quantiles, ", ")))
  out:close()
end
