-- wrk script for single deliveries (driven by bench/wrk.py, run_posts): closed-loop POSTs of one JSON
-- body each, as fast as answers come back. WRK_BODIES holds body templates, one a line, whose
-- "@N@" becomes a running number, so every request is a new interaction (202, not duplicate).
-- WRK_PATH is the path, WRK_TOKEN the bearer token; at the end the latency histogram and the
-- counts go to WRK_OUT as JSON (bench/wrk_done.lua), like reads.lua.

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

done = dofile(os.getenv("WRK_DONE"))
