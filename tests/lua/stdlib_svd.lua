-- SVD files loaded into working register maps: the sim's devices, and a
-- vendor-style file with fields, enumerated values, a cluster, derivedFrom.
local regs = require "memlua.regs"
local root = os.getenv("CARGO_MANIFEST_DIR") or "."

local pc = regs.svd(root .. "/examples/svd/memlua-pc.svd")
eq(pc.TIMER0.FREQ:read(), 10000000)
eq(pc.TIMER0:describe().registers[1].width, 64)
pc.SCRATCH0.R0.HI = 0xab
eq(mem.read32(0xFE003000), 0xab000000)
eq(pc.DMA0:describe().register.STATUS.access, "w1c")
mem.write64(0x100000, 42)
pc.DMA0.SRC = 0x100000; pc.DMA0.DST = 0x100100; pc.DMA0.LEN = 8
pc.DMA0.CTRL.START = "BUSY"
eq(pc.DMA0.STATUS.DONE, 1)
eq(mem.read64(0x100100), 42)
pc.DMA0.STATUS.DONE = 1
eq(pc.DMA0.STATUS:read(), 0)

local v, dev = regs.svd(root .. "/examples/svd/vendor-uart.svd")
eq(dev.name, "EXS100")
eq(v.UART1.base, 0xFE003040, "derivedFrom keeps its own base")
local cr = v.UART1:describe().register.CR
eq(cr.reset, 0x300, "derived registers")
eq(cr.field.PARITY.values.ODD, 3, "derived enumerated values")
v.UART1.CR.PARITY = "EVEN"
v.UART1.CR.UARTEN = "ENABLED"
eq(mem.read32(0xFE003040), 0x21)
eq(v.UART1.CR:format(), "CR = 0x00000021 (UARTEN=1 ENABLED, PARITY=2 EVEN, TXE=0, RXE=0)")
eq(v.UART0:describe().register.BAUD_IBRD.offset, 0x10, "cluster flattened")
eq(v.UART0:describe().register.BAUD_IBRD.width, 16)
eq(v.UART0:describe().register.SR.access, "ro")
argerr("is read-only", function() v.UART0.SR = 1 end)

-- Malformed SVD: the element and its line:column.
local function svderr(text, xml)
  local ok, e = pcall(regs.svd, "bad.svd", { text = xml })
  check(not ok and tostring(e):find(text, 1, true), ("expected %q, got %s"):format(text, tostring(e)))
end
local head = '<?xml version="1.0"?>\n<device><name>D</name><version>1</version><description>d</description>' ..
  '<addressUnitBits>8</addressUnitBits><width>32</width><peripherals>\n'
svderr("bad.svd:", head .. "<peripheral><name>P</name><baseAddress>0</baseAddress><registers>\n" ..
  "<register><name>R</name><addressOffset>zz</addressOffset></register>\n</registers></peripheral></peripherals></device>")
svderr("register `R`", head .. "<peripheral><name>P</name><baseAddress>0</baseAddress><registers>\n" ..
  "<register><name>R</name><addressOffset>zz</addressOffset></register>\n</registers></peripheral></peripherals></device>")
svderr("at 4:", head .. "<peripheral><name>P</name><baseAddress>0</baseAddress><registers>\n" ..
  "<register><name>R</name><addressOffset>zz</addressOffset></register>\n</registers></peripheral></peripherals></device>")
svderr("bad.svd:", "<device><name>D</name>")
-- valid XML, but a field past the register: our map check names file and line
svderr("bad.svd:4: device 'P': register 'R': field 'F': bits 30..33", head ..
  "<peripheral><name>P</name><baseAddress>0</baseAddress><registers>\n<register><name>R</name><addressOffset>0</addressOffset><size>32</size>" ..
  "<fields><field><name>F</name><bitOffset>30</bitOffset><bitWidth>4</bitWidth></field></fields></register>\n</registers></peripheral></peripherals></device>")
