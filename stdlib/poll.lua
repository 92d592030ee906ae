-- memlua.poll: wait until a register's masked value matches, with a
-- timeout. On the simulator the wait runs on its virtual clock, advanced
-- between reads, so a recipe's timeout means the same simulated time on
-- every machine and a wait never burns real time; elsewhere it uses the
-- host's monotonic clock.
--
--   local poll = require "memlua.poll"
--   poll.wait(0xFE002018, 0x1, 0x1, {timeout = 0.01})   -- DMA STATUS.DONE
--   poll.field(dma.STATUS, "DONE", 1)                   -- a memlua.regs register
--   poll.fn(function() return uart:read8(5) end, 0x20, 0x20)
--
-- Each returns the value that matched. When time runs out it raises, at
-- the caller's line, an error value like the API's: e.errno == "ETIMEDOUT", e.op == "poll",
-- e.addr (when polling an address), e.value (the last value seen),
-- e.mask, e.want, and tostring(e) saying all of it.
--
-- Options: `timeout` (seconds, default 1; finite) or `timeout_ns`; `interval_ns`
-- (default 1000: the simulated time between reads, or the least real time
-- between reads elsewhere); `width` (8/16/32/64, default 32) and `space`
-- ("phys" or "kernel") for `wait`; `clock` ("sim" or "monotonic") to
-- override the choice.

local host = require "memlua.host"

local M = {}

-- A timeout is the caller's failure, so it is reported at the caller's
-- line: `run` tail-calls this function (as wait, fn and field tail-call
-- run), and it has no line information, so the first frame with a line
-- is the caller's.
local raise = load(string.dump(function(err, e) err(e, 0) end, true), "=memlua.poll", "b")

local function on_sim()
  return backend.name == "sim"
end

local function timeout_ns(o)
  if o.timeout_ns ~= nil then
    local t = math.tointeger(o.timeout_ns)
    if not t or t < 0 then error("bad option 'timeout_ns' to 'poll' (non-negative integer expected)", 4) end
    return t
  end
  local s = o.timeout or 1
  -- inf and nan would wait for ever; so would anything past 2^63 ns.
  local ns = type(s) == "number" and s >= 0 and math.tointeger(math.floor(s * 1e9 + 0.5))
  if not ns then
    error("bad option 'timeout' to 'poll' (seconds expected: a finite number from 0 to 9.2e9, got "
      .. tostring(s) .. ")", 4)
  end
  return ns
end

local function check_int(v, what, fname)
  local n = math.tointeger(v)
  if n == nil then error(("bad argument '%s' to 'poll.%s' (integer expected, got %s)"):format(what, fname, tostring(v)), 3) end
  return n
end

local options_check = require("memlua.options").check
local OPTIONS = { "timeout", "timeout_ns", "interval_ns", "clock", "width", "space" }

--- The core loop: read() until read() & mask == want.
local function run(read, mask, want, o, addr, what)
  local limit = timeout_ns(o)
  local step = math.tointeger(o.interval_ns or 1000)
  if not step or step < 1 then error("bad option 'interval_ns' to 'poll' (positive integer expected)", 3) end
  local clock = o.clock or (on_sim() and "sim" or "monotonic")
  if clock ~= "sim" and clock ~= "monotonic" then error("bad option 'clock' to 'poll' (\"sim\" or \"monotonic\" expected)", 3) end
  local sim_clock = clock == "sim"
  local now = sim_clock and sim.clock or host.monotonic_ns
  local start = now()
  local v
  local reads = 0
  while true do
    v = read()
    reads = reads + 1
    if v & mask == want then return v end
    local elapsed = now() - start
    if elapsed >= limit then break end
    if sim_clock then
      sim.advance(math.min(step, limit - elapsed))
    else
      local t = now() + step
      while now() < t do end
    end
  end
  local e = host.error {
    errno = "ETIMEDOUT", op = "poll", addr = addr,
    message = ("%s: still 0x%x & 0x%x ~= 0x%x after %d ns (%d reads, %s clock)"):format(
      what, v, mask, want, limit, reads, sim_clock and "simulated" or "monotonic"),
  }
  e.value, e.mask, e.want = v, mask, want
  return raise(error, e)
end

--- Polls an address: width-exact reads of `opts.width` bits.
function M.wait(addr, mask, want, opts)
  opts = opts or {}
  options_check(opts, OPTIONS, "poll.wait")
  addr = check_int(addr, "addr", "wait")
  mask = check_int(mask, "mask", "wait")
  want = check_int(want, "want", "wait")
  local width = opts.width or 32
  local api = (opts.space == "kernel") and kmem or mem
  local rd = api["read" .. tostring(width)]
  if type(rd) ~= "function" then error("bad option 'width' to 'poll.wait' (8, 16, 32 or 64 expected)", 2) end
  return run(function() return rd(addr) end, mask, want, opts, addr, ("0x%x"):format(addr))
end

--- Polls any reader function.
function M.fn(read, mask, want, opts)
  options_check(opts, OPTIONS, "poll.fn")
  if type(read) ~= "function" then error("bad argument 'read' to 'poll.fn' (function expected)", 2) end
  mask = check_int(mask, "mask", "fn")
  want = check_int(want, "want", "fn")
  return run(function() return check_int(read(), "read()", "fn") end, mask, want, opts or {}, nil, "poll.fn")
end

--- Polls a field of a memlua.regs register until it equals `want` (a
--- number or an enumerated name). Returns the register's value.
function M.field(reg, name, want, opts)
  options_check(opts, OPTIONS, "poll.field")
  if type(reg) ~= "table" or type(reg.info) ~= "function" then
    error("bad argument 'reg' to 'poll.field' (a memlua.regs register expected)", 2)
  end
  local info = reg:info()
  local f = info.field[name]
  if not f then error(("bad argument 'name' to 'poll.field' (no field '%s' in register '%s')"):format(tostring(name), info.name), 2) end
  if type(want) == "string" then
    want = f.values[want] or error(("bad argument 'want' to 'poll.field' (no value '%s' in field '%s')"):format(want, name), 2)
  end
  want = check_int(want, "want", "field")
  local addr = reg._dev.base + info.offset
  return run(function() return reg:read() end, f.mask, (want << f.lsb) & f.mask, opts or {}, addr,
    ("%s.%s"):format(info.name, name))
end

return M
