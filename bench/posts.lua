-- wrk script for single deliveries (driven by bench/single.py): closed-loop POSTs of one JSON
-- body each, as fast as answers come back. WRK_BODIES holds body templates, one a line, whose
-- "@N@" becomes a running number, so every request is a new interaction (202, not duplicate).
-- WRK_PATH is the path, WRK_TOKEN the bearer token; at the end the latency histogram and the
-- counts go to WRK_OUT as JSON (percentiles 0.1..100 by 0.1, in microseconds), like reads.lua.

local templates = {}
for line in io.lines(os.getenv("WRK_BODIES")) do
  if line ~= "" then templates[#templates + 1] = line end
end
local path = os.getenv("WRK_PATH")
local headers = { ["Authorization"] = "Bearer " .. os.getenv("WRK_TOKEN"),
                  ["Content-Type"] = "application/json" }
local n = 0

function request()
  n = n + 1
  local body = templates[(n % #templates) + 1]:gsub("@N@", tostring(n))
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
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
