-- Issue 13's loop (benches/trace.sh): N window read32s over simulated RAM,
-- at one address ("same", a poll loop: one trace line) or at N different
-- addresses ("distinct": a line each). Prints the loop's time per read.
--   memlua [--record T | --replay T] benches/lua/trace_loop.lua same|distinct N
local how, n = ...
n = math.tointeger(tonumber(n or "10000000"))
local host = require "memlua.host"
local w = mem.map(0x100000, n * 4)
local t0 = host.monotonic_ns()
if how == "same" then
  for _ = 1, n do w:read32(0) end
else
  for i = 0, n - 1 do w:read32(i << 2) end
end
local t = host.monotonic_ns() - t0
print(("%s %d reads: %.1f ns each"):format(how, n, t / n))
