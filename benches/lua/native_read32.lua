-- 10 M w:read32(off) on a window over a tmpfs file through the native
-- backend, beside a raw lua_CFunction method doing a volatile load from an
-- mmap of the same file (bench.mapped:read32), in the same run. Target
-- (issue 4): within 1.25x. Median of 7 alternating runs.
-- Run by benches/native.rs (`cargo bench --bench native`).
if backend.name ~= "native" or not bench.mapped then
  print("skipped: needs the native backend (cargo bench --bench native)")
  return
end
local N = tonumber(os.getenv("MEMLUA_BENCH_N")) or 10000000
local RUNS = 7

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

local w = mem.map(0, 4096)
local b = bench.mapped
local ns, base_ns = medians(function()
  local s = 0
  for i = 1, N do s = s + w:read32((i & 1023) << 2) end
  return s
end, function()
  local s = 0
  for i = 1, N do s = s + b:read32((i & 1023) << 2) end
  return s
end)
local ratio = ns / base_ns
print(string.format("%-26s %6.1f ns/call  baseline %6.1f ns/call  ratio %.2f (target <= 1.25) %s",
  "w:read32(off), tmpfs file", ns, base_ns, ratio, ratio <= 1.25 and "ok" or "MISSED"))
