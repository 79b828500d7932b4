-- wrk script for the read benchmark (driven by bench/wrk.py): GETs of random paths from
-- WRK_PATHS, each with a random bearer token from WRK_TOKENS (a pool of agents: one agent
-- reading 100 customers a second is the exfiltration the detectors exist for).
--
-- The offered rate is WRK_RATE requests/s per wrk thread, paced on a monotonic clock: each
-- request takes the next free slot of the thread's schedule, so the rate holds whatever the
-- answers' latency, as long as a connection is free. At the end the latency histogram is
-- written to WRK_OUT as JSON (percentiles 0.1..100 by 0.1, in microseconds).
-- With WRK_AUTH=cookie each line of WRK_TOKENS is a page session cookie instead (the desk's pages).

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

local function lines(path)
  local found = {}
  for line in io.lines(path) do
    if line ~= "" then found[#found + 1] = line end
  end
  return found
end

local paths = lines(os.getenv("WRK_PATHS"))
local tokens = lines(os.getenv("WRK_TOKENS"))
local interval = 1000 / tonumber(os.getenv("WRK_RATE"))
local cookie = os.getenv("WRK_AUTH") == "cookie"
local next_slot = 0

function init(args)
  math.randomseed(tonumber(tostring({}):sub(8), 16) + os.time())
end

function delay()
  local now = now_ms()
  next_slot = math.max(now, next_slot + interval)
  return next_slot - now
end

function request()
  local token = tokens[math.random(#tokens)]
  local headers = cookie and { ["Cookie"] = "kartoteka_session=" .. token }
    or { ["Authorization"] = "Bearer " .. token }
  return wrk.format("GET", paths[math.random(#paths)], headers)
end

-- At the end: the latency histogram and the counts to WRK_OUT (bench/wrk_done.lua).
done = dofile(os.getenv("WRK_DONE"))
