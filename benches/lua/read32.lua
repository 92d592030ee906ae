-- 10 M w:read32(off) on a window over simulated RAM and 10 M
-- mem.read32(addr), each beside a raw lua_CFunction of the same call shape
-- (bench.buffer:read32, bench.read32) in the same run. Target (issue 3):
-- both within 1.5x of their baseline. Median of 7 alternating runs.
local N = tonumber(os.getenv("MEMLUA_BENCH_N")) or 10000000
local RUNS = 7

-- Runs `a` and `b` alternately RUNS times, so both see the same machine
-- (frequency changes, the other core's load); median ns per call of each.
local function medians(a, b)
  local ta, tb = {}, {}
  for r = 1, RUNS do
    local t0 = bench.now()
    a()
    local t1 = bench.now()
    b()
    local t2 = bench.now()
    ta[r], tb[r] = t1 - t0, t2 - t1
  end
  table.sort(ta)
  table.sort(tb)
  local m = (RUNS + 1) // 2
  return ta[m] / N * 1e9, tb[m] / N * 1e9
end

local function report(what, ns, base_ns, target)
  local ratio = ns / base_ns
  print(string.format("%-22s %6.1f ns/call  baseline %6.1f ns/call  ratio %.2f (target <= %.2f) %s",
    what, ns, base_ns, ratio, target, ratio <= target and "ok" or "MISSED"))
end

local base = bench.base
local w = mem.map(base, 4096)
local b = bench.buffer
local read32, raw = mem.read32, bench.read32

local window, window_base = medians(function()
  local s = 0
  for i = 1, N do s = s + w:read32((i & 1023) << 2) end
  return s
end, function()
  local s = 0
  for i = 1, N do s = s + b:read32((i & 1023) << 2) end
  return s
end)
local fn, fn_base = medians(function()
  local s = 0
  for i = 1, N do s = s + read32(base + ((i & 1023) << 2)) end
  return s
end, function()
  local s = 0
  for i = 1, N do s = s + raw(base + ((i & 1023) << 2)) end
  return s
end)

report("w:read32(off)", window, window_base, 1.5)
report("mem.read32(addr)", fn, fn_base, 1.5)
