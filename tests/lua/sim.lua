-- sim.*: the simulator's controls, and a device modelled in Lua.

local regions = sim.regions()
local byname = {}
for _, r in ipairs(regions) do byname[r.name] = r end
local uart = byname.uart0
check(uart, "uart0 is listed")
if uart then
  eq(uart.kind, "uart16550")
  eq(uart.base, 0xFE000000)
end
eq(byname.timer0 and byname.timer0.base, 0xFE001000)
eq(byname.dma0 and byname.dma0.base, 0xFE002000)
eq(byname.scratch0 and byname.scratch0.base, 0xFE003000)
for i = 2, #regions do
  check(regions[i - 1].base < regions[i].base, "regions in address order")
end
for _, d in ipairs(sim.devices()) do
  check(d.kind ~= "ram" and d.kind ~= "rom", "devices() lists devices only: " .. d.name)
end

-- What a UART transmitted.
eq(sim.output("uart0"), "")
for c in ("hi\n"):gmatch(".") do mem.write8(0xFE000000, c:byte()) end
eq(sim.output("uart0"), "hi\n")
local e = raises("ENOENT", sim.output, "uart9")
eq(e and e.op, "sim.output")
raises("EINVAL", sim.output, "scratch0")
argerr("bad argument #1 to 'sim.output' (string expected, got nil)", sim.output)

-- The virtual clock.
local c0 = sim.clock()
eq(sim.advance(1000), c0 + 1000)
eq(sim.clock(), c0 + 1000)
argerr("bad argument #1 to 'sim.advance' (length must not be negative", sim.advance, -1)
local t0 = mem.read64(0xFE001000)
sim.advance(1000000)
check(mem.read64(0xFE001000) - t0 >= 10000, "timer0 at 10 MHz follows the clock")

-- reclaim pages out unwired buffer pages; data is kept.
local b = mem.alloc(8192)
b:write32(4096, 42)
check(sim.reclaim() >= 1)
eq(mem.extract(b.addr + 4096).state, "valid")
eq(b:read32(4096), 42)

-- claim: another owner takes a range (checked further in memrange.lua).
sim.claim { base = 0x90000000, len = 0x1000000, owner = "gpu", flags = "write-combine" }
raises("EBUSY", memrange.remove, { base = 0x90000000, len = 0x1000000 })
argerr("bad argument #1 to 'sim.claim' (field 'owner': a string expected, got nil)",
  sim.claim, { base = 0x90000000, len = 0x1000000 })

-- A device modelled in Lua.
local BASE = 0xFE100000
local regs, log = {}, {}
local inner
sim.device {
  name = "luadev", base = BASE, len = 0x1000,
  read = function(off, width)
    log[#log + 1] = ("r%d@%x"):format(width, off)
    if off == 0x20 then error("register 0x20 is broken") end
    if off == 0x28 then return "not a number" end
    if off == 0x30 then
      local ok, err = pcall(mem.read32, 0x1000)
      inner = err
      return 7
    end
    if off == 0x38 then return 0x1ff end
    if off == 0x40 then return 3.0 end
    return regs[off] or 0
  end,
  write = function(off, width, v)
    log[#log + 1] = ("w%d@%x=%x"):format(width, off, v)
    regs[off] = v
  end,
}
mem.write32(BASE + 0x10, 0x1234)
eq(mem.read32(BASE + 0x10), 0x1234)
mem.write8(BASE + 1, 0xab); eq(mem.read8(BASE + 1), 0xab)
mem.write16(BASE + 2, 0xbeef); eq(mem.read16(BASE + 2), 0xbeef)
mem.write64(BASE + 8, -1); eq(mem.read64(BASE + 8), -1)
eq(log[1], "w32@10=1234")
eq(log[2], "r32@10")
eq(log[3], "w8@1=ab")
eq(log[5], "w16@2=beef")
eq(log[7], "w64@8=ffffffffffffffff")
eq(mem.read32(BASE + 0x40), 3, "an integral float is an integer")
local found
for _, d in ipairs(sim.devices()) do if d.name == "luadev" then found = d end end
eq(found and found.kind, "lua")
-- A window on it.
local w = mem.map(BASE, 0x1000)
w:write32(0x100, 99); eq(w:read32(0x100), 99)

-- A Lua error in the callback is EIO with the Lua message.
local eio = raises("EIO", mem.read32, BASE + 0x20)
check(eio and eio.message:find("register 0x20 is broken", 1, true), "the Lua message: " .. tostring(eio))
eq(eio and eio.addr, BASE + 0x20)
-- A non-integer answer is EIO too, and so is one too wide for the width.
local enan = raises("EIO", mem.read32, BASE + 0x28)
check(enan and enan.message:find("not an integer", 1, true), tostring(enan))
raises("EIO", mem.read8, BASE + 0x38)
eq(mem.read16(BASE + 0x38), 0x1ff)

-- Re-entrancy: the callback's own mem.read32 gets EBUSY, not a panic.
eq(mem.read32(BASE + 0x30), 7)
eq(type(inner), "table")
eq(inner and inner.errno, "EBUSY")
eq(inner and inner.op, "mem.read32")

-- A device without callbacks reads 0 and ignores writes.
sim.device { name = "quiet", base = 0xFE101000, len = 0x1000 }
mem.write32(0xFE101000, 5)
eq(mem.read32(0xFE101000), 0)

-- Bad device specs.
raises("EINVAL", sim.device, { name = "odd", base = 0xFE200001, len = 0x1000 })
raises("EBUSY", sim.device, { name = "clash", base = 0xFE000000, len = 0x1000 })
argerr("bad argument #1 to 'sim.device' (field 'name': a string expected, got nil)",
  sim.device, { base = 0xFE300000, len = 0x1000 })
argerr("field 'base' is missing", sim.device, { name = "x", len = 0x1000 })
argerr("field 'read': function expected, got number", sim.device,
  { name = "x", base = 0xFE300000, len = 0x1000, read = 5 })
argerr("bad argument #1 to 'sim.device' (table expected, got nil)", sim.device)

-- Everything still works.
eq(mem.read32(BASE + 0x10), 0x1234)

-- A device model that fails part-way through a bulk write: nothing the
-- simulator could check fails it, so the transfer stops there, and e.done
-- and the message say how far it got (4 bytes of RAM, 2 of the device).
local taken = {}
sim.device { name = "halfway", base = 0x80000000, len = 0x1000,
  write = function(off, width, v) if off >= 2 then error("full") end taken[#taken + 1] = v end }
local part = raises("EIO", mem.write, 0x7ffffffc, "wxyzWXYZ")
eq(part and part.done, 6)
check(part and part.message:find("device 'halfway' write failed: ", 1, true)
  and part.message:find(": full; 6 bytes were transferred before the failure$"), tostring(part))
eq(#taken, 2)
eq(mem.read(0x7ffffffc, 4), "wxyz")

-- A buffer the collector takes while a device callback runs cannot be
-- unmapped then (the backend is busy with the access); its RAM comes back
-- once the backend is free again.
do
  collectgarbage()
  local full = raises("ENOMEM", mem.alloc, 1 << 50)
  local free = tonumber(full and full.message:match("only (%d+) bytes"))
  check(free and free >= 1 << 30, "the pc board has RAM for buffers: " .. tostring(full))
  free = free or 0
  -- More than half of what is free: two cannot be live at once.
  local big = free // 4096 * 4096 // 3 * 2
  local b = mem.alloc(big)
  b:write32(0, 1)
  b = nil
  local collected = 0
  sim.device { name = "collector", base = 0xFE400000, len = 0x1000,
    read = function()
      collectgarbage(); collectgarbage()
      collected = collected + 1
      return 0
    end }
  eq(mem.read32(0xFE400000), 0)
  eq(collected, 1)
  local ok, again = pcall(mem.alloc, big)
  check(ok, "the collected buffer's RAM came back: " .. tostring(again))
  if ok then again:free() end
  -- Several in one callback, then freed by the next call of any kind.
  local bs = {}
  for i = 1, 3 do bs[i] = mem.alloc(big // 3) end
  bs = nil
  eq(mem.read32(0xFE400000), 0)
  eq(sim.clock() >= 0, true)
  ok, again = pcall(mem.alloc, big)
  check(ok, "three collected buffers' RAM came back: " .. tostring(again))
  if ok then again:free() end
end
