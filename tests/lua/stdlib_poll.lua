-- memlua.poll: matching, timeouts on the virtual clock, error values.
local poll = require "memlua.poll"
local regs = require "memlua.regs"

-- The timer's FREQ matches at once.
eq(poll.wait(0xFE001008, 0xffffffff, 10000000), 10000000)
-- The timer count passes a value only as (virtual) time goes by.
local t0 = sim.clock()
local v = poll.wait(0xFE001000, 0x100000, 0x100000, {timeout = 1})
check(v & 0x100000 ~= 0)
check(sim.clock() - t0 >= 0x100000 * 100, "the virtual clock advanced while waiting")

-- A timeout: ETIMEDOUT with the last value seen.
mem.write32(0xFE003000, 0x5)
local c0 = sim.clock()
local e = raises("ETIMEDOUT", poll.wait, 0xFE003000, 0xff, 0x7, {timeout_ns = 50000})
eq(e.value, 5)
eq(e.mask, 0xff)
eq(e.want, 7)
eq(e.op, "poll")
eq(e.addr, 0xFE003000)
check(tostring(e):find("^poll: ETIMEDOUT: 0xfe003000: still 0x5"), tostring(e))
check(sim.clock() - c0 >= 50000, "a timeout is simulated time")

-- poll.fn and poll.field
local n = 0
eq(poll.fn(function() n = n + 1; return n end, 0xf, 3), 3)
local dma = regs.device { name = "dma0", base = 0xFE002000, registers = {
  { name = "STATUS", offset = 0x18, access = "w1c", fields = {
    { name = "DONE", lsb = 0 }, { name = "ERROR", lsb = 1 } } } } }
local e2 = raises("ETIMEDOUT", poll.field, dma.STATUS, "DONE", 1, {timeout_ns = 1000})
eq(e2.value, 0)

-- bad arguments
argerr("integer expected", poll.wait, "x", 1, 1)
argerr("'timeout'", poll.wait, 0xFE003000, 1, 1, {timeout = -1})
argerr("'width'", poll.wait, 0xFE003000, 1, 1, {width = 12})
argerr("no field 'NOPE'", poll.field, dma.STATUS, "NOPE", 1)

-- Off the simulator the host's monotonic clock runs the wait.
local e3 = raises("ETIMEDOUT", poll.fn, function() return 0 end, 1, 1, {clock = "monotonic", timeout_ns = 200000})
check(tostring(e3):find("monotonic clock", 1, true), tostring(e3))
local host = require "memlua.host"
local a = host.monotonic_ns(); local b = host.monotonic_ns()
check(b >= a and a > 0, "monotonic_ns grows")
argerr("'clock'", poll.fn, function() return 0 end, 1, 1, {clock = "wall"})
-- A misspelt option is refused rather than giving the default timeout.
argerr("bad option 'timout' to 'poll.wait' (unknown;", poll.wait, 0xFE001008, 0xff, 0x80, {timout = 1})
argerr("bad option 'interval' to 'poll.fn'", poll.fn, function() return 0 end, 1, 1, {interval = 5})
argerr("bad options to 'poll.wait' (table expected, got number)", poll.wait, 0xFE001008, 0xff, 0x80, 5)

-- A timeout of inf or nan (or past 2^63 ns) would never run out: refused
-- before the first read (issue 12). The readers stop a wait that was not.
local polls = 0
local function reader()
  polls = polls + 1
  if polls > 100 then error("still polling: the timeout was taken") end
  return 0
end
for _, t in ipairs { math.huge, 0 / 0, 1e300, -math.huge } do
  argerr("bad option 'timeout' to 'poll' (seconds expected", poll.fn, reader, 1, 1, {timeout = t})
end
argerr("'timeout_ns'", poll.fn, reader, 1, 1, {timeout_ns = math.huge})
local real_read32 = mem.read32
mem.read32 = function(a) return reader() end
argerr("bad option 'timeout' to 'poll' (seconds expected", poll.wait, 0xFE003000, 1, 1, {timeout = math.huge})
mem.read32 = real_read32
eq(polls, 0, "nothing was read")
