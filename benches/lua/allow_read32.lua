-- Issue 17: what an allow-list of 16 ranges costs a window's read32 loop.
-- Two sessions on simulated `pc` boards in this state, one behind the
-- pass-through layer and one behind the allow-list; 10 M w:read32(off)
-- on a window inside the list on each, in 21 alternating runs; the ratio
-- is the median of each run's pair (so a busy moment of the machine hits
-- both sides of a pair), the ns figures the medians of each side. The
-- list clears the window when it is made, so its accesses skip the check;
-- target: at most 1.10 of the pass-through figure. mem.read32 (checked on
-- every call) for comparison.
if bench.layered then return end  -- one run is enough: it makes its own sessions
local N = tonumber(os.getenv("MEMLUA_BENCH_N")) or 10000000
local RUNS = 21

local function medians(a, b)
  local ta, tb, ratio = {}, {}, {}
  for r = 1, RUNS do
    local t0 = bench.now()
    a()
    local t1 = bench.now()
    b()
    local t2 = bench.now()
    ta[r], tb[r] = t1 - t0, t2 - t1
    ratio[r] = ta[r] / tb[r]
  end
  table.sort(ta)
  table.sort(tb)
  table.sort(ratio)
  local m = (RUNS + 1) // 2
  return ta[m] / N * 1e9, tb[m] / N * 1e9, ratio[m]
end

local through, allow = bench.session("through"), bench.session("allow16")
local base = bench.base
local wt, wa = through.mem.map(base, 4096), allow.mem.map(base, 4096)
local allowed, passed, ratio = medians(function()
  local s = 0
  for i = 1, N do s = s + wa:read32((i & 1023) << 2) end
  return s
end, function()
  local s = 0
  for i = 1, N do s = s + wt:read32((i & 1023) << 2) end
  return s
end)
local rt, ra = through.mem.read32, allow.mem.read32
local fa, ft, fratio = medians(function()
  local s = 0
  for i = 1, N do s = s + ra(base + ((i & 1023) << 2)) end
  return s
end, function()
  local s = 0
  for i = 1, N do s = s + rt(base + ((i & 1023) << 2)) end
  return s
end)
print(string.format("%-28s %6.1f ns/call  pass-through %6.1f ns/call  ratio %.3f (target <= 1.10) %s",
  "w:read32, allow-list of 16", allowed, passed, ratio, ratio <= 1.10 and "ok" or "MISSED"))
print(string.format("%-28s %6.1f ns/call  pass-through %6.1f ns/call  ratio %.3f (checked per call)",
  "mem.read32, allow-list of 16", fa, ft, fratio))
