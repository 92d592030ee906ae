-- March C- over 64 MiB of sim RAM, 64-bit words through a window: word
-- operations per second, median of 5 runs (issue 6: >= 20 M/s).
-- Usage: memlua benches/lua/memtest.lua [runs] [block]
local memtest = require "memlua.memtest"
local runs = tonumber(arg and arg[1]) or 5
local block = tonumber(arg and arg[2])
local rates = {}
for i = 1, runs do
  local r = memtest.run { addr = 0x10000000, len = 64 << 20, block = block }
  assert(r.ok)
  rates[i] = r.ops / (r.elapsed_ns / 1e9)
  io.stderr:write(("run %d: %d ops in %.3f s = %.1f M/s\n"):format(i, r.ops, r.elapsed_ns / 1e9, rates[i] / 1e6))
end
table.sort(rates)
print(("march C- 64 MiB%s: median %.1f M word ops/s (target >= 20)"):format(
  block and (" block " .. block) or "", rates[(runs + 1) // 2] / 1e6))
