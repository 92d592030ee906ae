-- memlua.regs: maps, access by name, RMW widths, w1c, decode, dump, errors.
local regs = require "memlua.regs"

local uart = regs.device {
  name = "uart0", base = 0xFE000000,
  registers = {
    { name = "RBR", offset = 0, width = 8, access = "ro", read_effects = true },
    { name = "THR", offset = 0, width = 8, access = "wo" },
    { name = "DLL", offset = 0, width = 8 },
    { name = "LCR", offset = 3, width = 8, reset = 0, fields = {
      { name = "WLS", lsb = 0, width = 2, enum = { ["5BITS"] = 0, ["6BITS"] = 1, ["7BITS"] = 2, ["8BITS"] = 3 } },
      { name = "STB", bit = 2 },
      { name = "PEN", bits = {3, 3} },
      { name = "DLAB", lsb = 7 } } },
    { name = "LSR", offset = 5, width = 8, access = "ro", fields = {
      { name = "THRE", lsb = 5 }, { name = "TEMT", lsb = 6 } } },
  } }

uart.LCR = 0
uart.LCR.DLAB = 1
eq(mem.read8(0xFE000003), 0x80, "field write is a RMW")
uart.DLL = 1
uart.LCR.DLAB = 0
uart.LCR.WLS = "8BITS"
eq(uart.LCR.WLS, 3)
eq(uart.LCR:read(), 0x03)
eq(uart.LCR(), 0x03)
eq(uart:read("LCR"), 3)
eq(uart.LCR:format(), "LCR = 0x03 (WLS=3 8BITS, STB=0, PEN=0, DLAB=0)")
eq(tostring(uart.LCR), "LCR = 0x03 (WLS=3 8BITS, STB=0, PEN=0, DLAB=0)")
local d = uart.LCR:decode()
eq(d.WLS, 3); eq(d.fields[1].enum, "8BITS"); eq(d.value, 3)
uart.LCR:set { STB = 1, PEN = 1 }
eq(uart.LCR:read(), 0x0f)
uart.THR = 0x41
uart:write("THR", 0x42)
eq(sim.output("uart0"), "AB")
eq(uart.LSR.THRE, 1)

-- access rules
argerr("is read-only", function() uart.LSR = 0 end)
argerr("is read-only", function() uart.LSR.THRE = 0 end)
argerr("is write-only", function() return uart.THR:read() end)
argerr("no field 'FOO'", function() return uart.LCR.FOO end)
argerr("no field 'FOO'", function() uart.LCR.FOO = 1 end)
argerr("no register 'XYZ'", function() return uart.XYZ end)
argerr("does not fit 2 bits", function() uart.LCR.WLS = 4 end)
argerr("(one of 5BITS, 6BITS, 7BITS, 8BITS)", function() uart.LCR.WLS = "9BITS" end)
argerr("does not fit 8 bits", function() uart.LCR = 0x100 end)

-- The dump: write-only and read-effect registers are not read.
local dump = uart:dump()
check(dump:find("uart0 at 0xfe000000 (phys)", 1, true), dump)
check(dump:find("+0x000 THR  wo   8 (write-only)", 1, true), dump)
check(dump:find("+0x000 RBR  ro   8 (not read: reading has effects)", 1, true), dump)
check(dump:find("+0x003 LCR  rw   8 0x0f (WLS=3 8BITS, STB=1, PEN=1, DLAB=0)", 1, true), dump)

-- Widths: a 32-bit register is written with one 32-bit access (the DMA
-- engine refuses 8-bit accesses, so a byte-wide RMW would fail).
local dma = regs.device {
  name = "dma0", base = 0xFE002000,
  registers = {
    { name = "SRC", offset = 0, width = 64 },
    { name = "DST", offset = 8, width = 64 },
    { name = "LEN", offset = 0x10 },
    { name = "CTRL", offset = 0x14, fields = { { name = "START", lsb = 0 }, { name = "MODE", lsb = 4, width = 4 } } },
    { name = "STATUS", offset = 0x18, access = "w1c", fields = { { name = "DONE", lsb = 0 }, { name = "ERROR", lsb = 1 } } },
  } }
dma.CTRL.MODE = 5
eq(mem.read32(0xFE002014), 0x50)
mem.write64(0x100000, 0x1122334455667788)
dma.SRC = 0x100000
dma.DST = 0x200000
dma.LEN = 8
dma.CTRL.START = 1
eq(dma.STATUS.DONE, 1)
eq(mem.read64(0x200000), 0x1122334455667788)
dma.STATUS.DONE = 1              -- write one to clear: only DONE's bit is written
eq(dma.STATUS:read(), 0)

-- w1c fields inside an rw register are written as 0 by other field writes
local s = regs.device { name = "s", base = 0xFE003000, registers = {
  { name = "CSR", offset = 0x10, fields = { { name = "EN", lsb = 0 }, { name = "IRQ", lsb = 1, access = "w1c" } } } } }
mem.write32(0xFE003010, 0x2)     -- IRQ pending
s.CSR.EN = 1
eq(mem.read32(0xFE003010), 0x1, "the RMW wrote 0 to the pending w1c bit")

-- kernel space and base override
local k = regs.device({ name = "ver", base = 0, space = "kernel", registers = { { name = "W0", offset = 0 } } },
  { base = kmem.symbol("version") })
eq(k.W0:read(), kmem.read32(kmem.symbol("version")))

-- Malformed maps name the element.
local function maperr(text, map)
  local ok, e = pcall(regs.device, map)
  check(not ok and type(e) == "string" and e:find(text, 1, true), ("expected %q, got %s"):format(text, tostring(e)))
end
maperr("device: a device needs a name", { base = 0, registers = {} })
maperr("device 'd': base must be an address", { name = "d", registers = {} })
maperr("device 'd': register 'A': width must be 8, 16, 32 or 64, got 12", { name = "d", base = 0, registers = { { name = "A", offset = 0, width = 12 } } })
maperr("register 'A': offset 0x2 is not aligned", { name = "d", base = 0, registers = { { name = "A", offset = 2 } } })
maperr("register 'A': access must be rw, ro, wo or w1c, got rx", { name = "d", base = 0, registers = { { name = "A", offset = 0, access = "rx" } } })
maperr("register 'A': a second register of this name", { name = "d", base = 0, registers = { { name = "A", offset = 0 }, { name = "A", offset = 4 } } })
maperr("register 'A': field 'F': bits 6..9 do not fit the 8-bit register", { name = "d", base = 0, registers = { { name = "A", offset = 0, width = 8, fields = { { name = "F", lsb = 6, width = 4 } } } } })
maperr("field 'G': overlaps another field", { name = "d", base = 0, registers = { { name = "A", offset = 0, fields = { { name = "F", lsb = 0, width = 4 }, { name = "G", lsb = 3 } } } } })
maperr("field 'F': enum 'BIG': value 4 does not fit the 2-bit field", { name = "d", base = 0, registers = { { name = "A", offset = 0, fields = { { name = "F", lsb = 0, width = 2, enum = { BIG = 4 } } } } } })
maperr("register 'A': reset 0x100 does not fit 8 bits", { name = "d", base = 0, registers = { { name = "A", offset = 0, width = 8, reset = 0x100 } } })
maperr("registers[1]: a register needs a name", { name = "d", base = 0, registers = { { offset = 0 } } })
-- Misspelt or unknown keys are refused, not ignored.
maperr("device 'd': unknown key 'regsiters'; expected base, description, len, name, registers, space, width",
  { name = "d", base = 0, registers = {}, regsiters = {} })
maperr("register 'A': unknown key 'acess'", { name = "d", base = 0, registers = { { name = "A", offset = 0, acess = "ro" } } })
maperr("field 'F': unknown keys 'lsbit', 'msb'", { name = "d", base = 0, registers = { { name = "A", offset = 0, fields = { { name = "F", lsb = 0, lsbit = 0, msb = 3 } } } } })
maperr("field 'F': enum 'ON': unknown key 'val'", { name = "d", base = 0, registers = { { name = "A", offset = 0, fields = { { name = "F", lsb = 0, enum = { { name = "ON", val = 1 } } } } } } })
maperr("field 'F': enum[1]: expected a table {name =, value =}, got number", { name = "d", base = 0, registers = { { name = "A", offset = 0, fields = { { name = "F", lsb = 0, enum = { 1 } } } } } })

-- A map file: the error names the file and the element's line.
local path = os.tmpname()
local f = io.open(path, "w")
f:write([[
return {
  name = "dev",
  base = 0xFE003000,
  registers = {
    { name = "OK", offset = 0 },
    { name = "CTRL", offset = 4, fields = {
        { name = "EN", lsb = 0 },
        { name = "MODE", lsb = 30, width = 4 },
    } },
  },
}
]])
f:close()
local ok, e = pcall(regs.load, path)
check(not ok and e:find(path .. ":8: device 'dev': register 'CTRL': field 'MODE': bits 30..33", 1, true), tostring(e))
-- a good file loads
f = io.open(path, "w")
f:write('return { name = "dev", base = 0xFE003000, registers = { { name = "R", offset = 8 } } }')
f:close()
local devs, first = regs.load(path)
first.R = 0x1234
eq(devs.dev.R:read(), 0x1234)
os.remove(path)

-- rebase: the same register block elsewhere, the original untouched.
local moved = uart:rebase(0xFE003000)
eq(moved.base, 0xFE003000)
eq(uart.base, 0xFE000000)
moved.LCR = 0x5a
eq(mem.read8(0xFE003003), 0x5a)
argerr("bad option 'base'", uart.rebase, uart, "nowhere")

-- Fields may be called value, name or fields: decode keeps them apart.
local odd = regs.device { name = "odd", base = 0xFE003000, registers = {
  { name = "R", offset = 0x10, width = 8, fields = {
    { name = "value", lsb = 0, width = 4 }, { name = "name", lsb = 4, width = 2 } } },
  { name = "EMPTY", offset = 0x14, width = 32 } } }
mem.write8(0xFE003010, 0x2b)
local dr = odd.R:decode()
eq(dr.value, 0x2b)
eq(dr.name, "R")
eq(dr.field.value, 0xb)
eq(dr.field.name, 2)
eq(#dr.fields, 2)
eq(odd.R:format(), "R = 0x2b (value=11, name=2)")
check(odd:dump():find("value=11", 1, true), odd:dump())
