-- uart-hello: program the 16550's divisor and line control through a
-- register map, send a string, check what the UART transmitted.
-- Runs on the simulator (`memlua examples/uart-hello.lua`) and, with the
-- base changed to your board's UART, on hardware.
local regs = require "memlua.regs"
local poll = require "memlua.poll"

-- 1. Describe the device once.
local uart = regs.device {
  name = "uart0", base = 0xFE000000,
  registers = {
    { name = "THR", offset = 0, width = 8, access = "wo" },
    { name = "DLL", offset = 0, width = 8 },               -- when LCR.DLAB = 1
    { name = "DLM", offset = 1, width = 8 },               -- when LCR.DLAB = 1
    { name = "LCR", offset = 3, width = 8, fields = {
      { name = "WLS", lsb = 0, width = 2, enum = { ["5BITS"] = 0, ["6BITS"] = 1, ["7BITS"] = 2, ["8BITS"] = 3 } },
      { name = "STB", lsb = 2 }, { name = "PEN", lsb = 3 }, { name = "DLAB", lsb = 7 } } },
    { name = "LSR", offset = 5, width = 8, access = "ro", fields = {
      { name = "THRE", lsb = 5 }, { name = "TEMT", lsb = 6 } } },
  } }

-- 2. 115200 / 1 = 115200 baud: open the divisor latch, set it, close it.
uart.LCR.DLAB = 1
uart.DLL = 1
uart.DLM = 0
uart.LCR.DLAB = 0
-- 3. 8 data bits, 1 stop bit, no parity (8N1).
uart.LCR:set { WLS = "8BITS", STB = 0, PEN = 0 }
print(uart.LCR:format())

-- 4. Send, waiting for the transmitter before each byte.
local msg = "hello from memlua\n"
for c in msg:gmatch(".") do
  poll.field(uart.LSR, "THRE", 1, { timeout = 0.01 })
  uart.THR = c:byte()
end

-- 5. Check what went out on the line (the simulator records it).
if backend.name == "sim" then
  local sent = sim.output("uart0")
  assert(sent == msg, ("the UART sent %q"):format(sent))
end
print("uart-hello: OK")
