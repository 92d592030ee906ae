-- dma-loopback: allocate and lock a buffer, look up its physical pages,
-- program the DMA engine to copy a pattern into it, poll for done, verify.
local regs = require "memlua.regs"
local poll = require "memlua.poll"

local dma = regs.device {
  name = "dma0", base = 0xFE002000,
  registers = {
    { name = "SRC", offset = 0x00, width = 64 },
    { name = "DST", offset = 0x08, width = 64 },
    { name = "LEN", offset = 0x10, width = 32 },
    { name = "CTRL", offset = 0x14, width = 32, fields = { { name = "START", lsb = 0 } } },
    { name = "STATUS", offset = 0x18, width = 32, access = "w1c", fields = {
      { name = "DONE", lsb = 0 }, { name = "ERROR", lsb = 1 } } },
  } }

-- 1. A wired buffer of this process: its pages stay where they are.
local PAGE = 4096
local buf = mem.alloc(PAGE)
buf:write8(0, 0)          -- touch it so it has a frame
buf:lock()
local page = mem.extract(buf.addr)
assert(page.state == "mapped", "buffer page not mapped: " .. page.state)
print(("buffer 0x%x -> physical 0x%x (domain %d)"):format(buf.addr, page.paddr, page.domain))

-- 2. A source pattern in physical RAM.
local SRC = 0x01000000
local pattern = {}
for i = 0, PAGE - 1 do pattern[#pattern + 1] = string.char((i * 7 + 3) & 0xff) end
pattern = table.concat(pattern)
mem.write(SRC, pattern)

-- 3. Program the engine and start it.
dma.STATUS = 0x3          -- clear stale DONE/ERROR (write one to clear)
dma.SRC = SRC
dma.DST = page.paddr
dma.LEN = PAGE
dma.CTRL.START = 1

-- 4. Wait for DONE, then check ERROR.
poll.field(dma.STATUS, "DONE", 1, { timeout = 0.01 })
assert(dma.STATUS.ERROR == 0, "DMA reported an error")
dma.STATUS.DONE = 1

-- 5. The buffer now holds the pattern.
assert(buf:read(0, PAGE) == pattern, "buffer does not hold the pattern")
buf:unlock()
buf:free()
print("dma-loopback: OK")
