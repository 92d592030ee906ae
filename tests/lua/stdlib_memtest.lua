-- memlua.memtest: every algorithm over RAM and buffers, failures, progress.
local memtest = require "memlua.memtest"

local r = memtest.run { addr = 0x1000000, len = 4096, algorithms = "all", passes = 2 }
check(r.ok, "good RAM passes")
eq(r.failure_count, 0)
eq(r.ops, (2 * 2 + 2 * 2 + 4 + 10) * 512)
eq(table.concat(r.algorithms, ","), "walking1,walking0,address,march")

-- 32-bit words, a buffer, progress callbacks
local calls, last = 0, nil
local b = mem.alloc(65536 * 8)
local r2 = memtest.run { buffer = b, word = 32, algorithms = { "address", "march" },
  progress = function(done, total, alg) calls = calls + 1; last = { done, total, alg } end }
check(r2.ok)
check(calls > 1, "progress called")
eq(last[1], last[2], "progress ends at the total")
eq(r2.addr, b.addr)

-- A device with a stuck bit: every failing address, expected and actual.
sim.device { name = "stuck", base = 0x90000000, len = 4096,
  read = function(off, width) return 0x8 end, write = function() end }
local r3 = memtest.run { addr = 0x90000000, len = 64, word = 32 }
check(not r3.ok)
eq(r3.failure_count, 16 * 4 + 16, "every read of the 16 words that expected something else")
eq(r3.failures[1].addr, 0x90000000)
eq(r3.failures[1].expected, 0)
eq(r3.failures[1].actual, 8)
eq(r3.failures[1].algorithm, "march")
eq(r3.failures[1].element, "up r0,w1")
local r4 = memtest.run { addr = 0x90000000, len = 64, word = 32, max_failures = 3, algorithms = { "address" } }
eq(#r4.failures, 3); eq(r4.failure_count, 32)
eq(r4.failures[2].addr, 0x90000004); eq(r4.failures[2].expected, 0x90000004)

-- block mode agrees on good memory and pinpoints a bad word
check(memtest.run { addr = 0x2000000, len = 1 << 20, block = 65536 }.ok)
local r5 = memtest.run { addr = 0x90000000, len = 64, word = 32, block = 32 }
check(not r5.ok); eq(r5.failures[1].addr, 0x90000000); eq(r5.failures[1].actual, 0x08080808, "bulk reads of the device are byte reads")

-- bad options
argerr("'addr'", memtest.run, { len = 4096 })
argerr("'len'", memtest.run, { addr = 0, len = 0 })
argerr("unknown algorithm 'zz'", memtest.run, { addr = 0x1000000, len = 64, algorithms = { "zz" } })
argerr("'word'", memtest.run, { addr = 0x1000000, len = 64, word = 16 })
argerr("multiples of 8 bytes", memtest.run, { addr = 0x1000000, len = 12 })
raises("EFAULT", memtest.run, { addr = 1 << 40, len = 4096 })
argerr("bad option 'algoritms' to 'memtest.run' (unknown;", memtest.run, { addr = 0x1000000, len = 64, algoritms = "all" })

-- A range past the end of memory fails at once with the backend's error,
-- not after testing everything before the end (issue 12). A window that
-- counts accesses stops a run that was not stopped.
do
  local real_map, accesses = mem.map, 0
  mem.map = function(a, n)
    local w = real_map(a, n)
    local function counted(name)
      return function(_, ...)
        accesses = accesses + 1
        if accesses > 1000 then error("memtest ran on instead of checking the range first") end
        return w[name](w, ...)
      end
    end
    return { read64 = counted("read64"), write64 = counted("write64"),
             read32 = counted("read32"), write32 = counted("write32") }
  end
  local e = raises("EFAULT", memtest.run, { addr = 0, len = 1 << 62 })
  eq(e and e.addr, (1 << 62) - 8, "the last word was probed")
  raises("EFAULT", memtest.run, { addr = 0x1000000, len = 1 << 40, word = 32, algorithms = "all" })
  mem.map = real_map
  check(accesses <= 2, "one probe each, nothing tested: " .. accesses)
end
