-- Bad input (issue 3): every case that belongs to the API, all in this one
-- Lua state, which must still work afterwards. Nothing panics. Also run on
-- a QEMU q35 machine (tests/qemu.rs): 40 address bits, no kernel memory,
-- no buffers (those cases run on a simulator's session there).

local Q = backend.name == "qemu"
local TOP = Q and 1 << 40 or 1 << 39
local A = 0x7000
mem.write32(A, 0x01020304)

-- Error values: a table with a shared metatable and the fields docs/API.md names.
local e = raises("EINVAL", mem.write8, A, 0x100)
if e then
  eq(e.errno, "EINVAL")
  eq(math.type(e.code), "integer")
  eq(e.op, "mem.write8")
  eq(e.addr, A)
  eq(e.done, nil, "done only where it applies")
  check(type(e.message) == "string" and #e.message > 0, "message")
  eq(tostring(e), "mem.write8: EINVAL: " .. e.message .. " (addr=0x7000)")
  local e2 = raises("EFAULT", mem.read8, TOP)
  check(getmetatable(e) == getmetatable(e2), "one shared metatable")
  eq(raises("EFAULT", mem.read, TOP, 1).done, 0, "done for bulk transfers")
  -- The text is docs/API.md's format exactly; the count is e.done's business.
  local eb = raises("EFAULT", mem.read, TOP, 16)
  local subject = Q and " (addr=0x10000000000 len=0x10)" or " (addr=0x8000000000)"
  eq(eb and tostring(eb), "mem.read: EFAULT: " .. (eb and eb.message or "") .. subject)
end
-- Errors raised from Lua code still are the table (no position added).
local ok, te = pcall(function() mem.read32(TOP) end)
check(not ok and type(te) == "table" and te.errno == "EFAULT", "table through a Lua frame")
-- error() passes it on unchanged.
local ok2, te2 = pcall(function()
  local ok3, inner = pcall(mem.read32, TOP)
  error(inner)
end)
check(not ok2 and type(te2) == "table" and te2.errno == "EFAULT", "rethrown")

-- An address that is nil, a table, 1.5 or a non-numeric string.
for _, case in ipairs {
  { nil, "got nil" }, { {}, "got table" }, { 1.5, "got 1.5" }, { "abc", "got string 'abc'" },
  { print, "got function" }, { "", "got string ''" },
} do
  for _, f in ipairs { "read8", "read16", "read32", "read64" } do
    argerr(("bad argument #1 to 'mem.%s' (address expected, %s)"):format(f, case[2]), mem[f], case[1])
    argerr(("bad argument #1 to 'kmem.%s' (address expected, %s)"):format(f, case[2]), kmem[f], case[1])
  end
  argerr("bad argument #1 to 'mem.write32' (address expected, " .. case[2] .. ")", mem.write32, case[1], 0)
  argerr("bad argument #1 to 'mem.read' (address expected, " .. case[2] .. ")", mem.read, case[1], 1)
  argerr("bad argument #1 to 'mem.write' (address expected, " .. case[2] .. ")", mem.write, case[1], "x")
  argerr("bad argument #1 to 'mem.map' (address expected, " .. case[2] .. ")", mem.map, case[1], 1)
  argerr("bad argument #1 to 'mem.extract' (address expected, " .. case[2] .. ")", mem.extract, case[1])
end
argerr("bad argument #2 to 'mem.write' (string expected, got number)", mem.write, A, 5)
local okp, where = pcall(function() mem.read32({}) end)
check(not okp and where:match("^tests/lua/errors%.lua:%d+: bad argument #1 to 'mem%.read32' %(address expected, got table%)$"),
  "position, then luaL_argerror's words: " .. tostring(where))

-- A value too wide for its width: EINVAL, nothing written.
for _, c in ipairs { { "write8", 0x100 }, { "write16", 0x10000 }, { "write32", 0x100000000 },
                     { "write8", -129 }, { "write16", -32769 } } do
  local err = raises("EINVAL", mem[c[1]], A, c[2])
  check(err and err.message:find("does not fit", 1, true), "says it does not fit")
end
eq(mem.read32(A), 0x01020304, "nothing was written")

-- A negative length.
argerr("bad argument #2 to 'mem.read' (length must not be negative, got -1)", mem.read, A, -1)
argerr("bad argument #2 to 'kmem.read' (length must not be negative, got -1)", kmem.read, A, -1)
argerr("bad argument #2 to 'mem.map' (length must not be negative, got -1)", mem.map, A, -1)
argerr("bad argument #2 to 'mem.extract_range' (length must not be negative, got -1)", mem.extract_range, A, -1)
argerr("bad argument #1 to 'mem.alloc' (length must not be negative, got -4096)", mem.alloc, -4096)
argerr("bad argument #2 to 'mem.read' (length expected, got 1.5)", mem.read, A, 1.5)

-- More than 1 GiB for read: EINVAL naming windows and loops.
local big = raises("EINVAL", mem.read, 0, (1 << 30) + 1)
check(big and big.message:find("mem.map", 1, true) and big.message:find("loop", 1, true),
  "names windows and loops: " .. tostring(big))
raises("EINVAL", kmem.read, 0, 1 << 31)
eq(#mem.read(0, 16), 16)

-- A window access past its end names the offset and the window's length.
local w = mem.map(A, 0x40)
local past = raises("EINVAL", w.read32, w, 0x40)
check(past and past.message:find("offset 0x40", 1, true) and past.message:find("length 0x40", 1, true),
  "names offset and length: " .. tostring(past))
raises("EINVAL", w.write32, w, 0x40, 1)
raises("EINVAL", w.write, w, 0x3f, "ab")
eq(mem.read32(A), 0x01020304)

-- Any use of a freed buffer (QEMU hands out none: a simulator's session).
local sim_mem = Q and new_session("pc").mem or mem
local b = sim_mem.alloc(4096)
b:free()
for _, f in ipairs { "read8", "read16", "read32", "read64", "lock", "unlock", "free", "pages" } do
  local err = raises("EINVAL", b[f], b, 0)
  check(err and err.message:find("freed", 1, true), f .. " on a freed buffer says so")
end
raises("EINVAL", b.write32, b, 0, 0)
raises("EINVAL", b.write, b, 0, "x")
raises("EINVAL", b.read, b, 0, 1)
-- Its numbers stay readable, and its addresses are invalid now.
eq(sim_mem.extract(b.addr).state, "invalid", "a freed buffer's address")
eq(b.len, 4096)

-- A method called with a wrong self.
local buf = sim_mem.alloc(4096)
local pl = buf:pages()
argerr("calling 'read32' on bad self (memlua.window expected, got number)", w.read32, 5, 0)
argerr("calling 'read32' on bad self (memlua.window expected, got nil)", w.read32)
argerr("calling 'read32' on bad self (memlua.buffer expected, got memlua.window)", buf.read32, w, 0)
argerr("calling 'write' on bad self (memlua.window expected, got memlua.buffer)", w.write, buf, 0, "x")
argerr("calling 'state' on bad self (memlua.pagelist expected, got table)", pl.state, {}, 1)
argerr("calling 'free' on bad self (memlua.buffer expected, got string)", buf.free, "buf")
local oks, selfmsg = pcall(function() return w.read32(nil, 0) end)
check(not oks and selfmsg:match("^tests/lua/errors%.lua:%d+: calling 'read32' on bad self"), tostring(selfmsg))

-- memrange.set with a missing field, an unknown flag name, a long owner.
argerr("bad argument #1 to 'memrange.set' (field 'base' is missing)", memrange.set, { len = 0x1000, flags = 1 })
argerr("bad argument #1 to 'memrange.set' (field 'len' is missing)", memrange.set, { base = 0, flags = 1 })
argerr("bad argument #1 to 'memrange.set' (field 'flags' is missing)", memrange.set, { base = 0, len = 0x1000 })
argerr("bad argument #1 to 'memrange.set' (field 'flags': unknown flag name 'fast'",
  memrange.set, { base = 0, len = 0x1000, flags = "write-back,fast" })
argerr("bad argument #1 to 'memrange.set' (field 'owner' is 8 bytes",
  memrange.set, { base = 0xC0000000, len = 0x1000, flags = "uncacheable", owner = "12345678" })
argerr("field 'base' is missing", memrange.remove, { len = 0x1000 })

-- sim.* off the simulator: EOPNOTSUPP.
local native = Q and { backend = backend, sim = sim, mem = mem }
  or new_session("pc", { nosim = true })
eq(native.backend.name, Q and "qemu" or "native")
eq(native.backend.board, Q and "q35" or nil)
for name, args in pairs {
  regions = {}, devices = {}, reclaim = {}, clock = {}, advance = { 1 },
  output = { "uart0" },
  claim = { { base = 0x90000000, len = 0x1000000, owner = "x" } },
  device = { { name = "d", base = 0xFE100000, len = 0x1000 } },
} do
  local err = raises("EOPNOTSUPP", native.sim[name], table.unpack(args))
  eq(err and err.op, "sim." .. name)
end
eq(native.mem.read32(0xFFFF0) & 0xff, 0xEA, "the rest of that session works")

-- gdb.* off the gdb backend: EOPNOTSUPP naming the backend.
for name, args in pairs { monitor = { "help" }, halt = {}, resume = {}, registers = {} } do
  local err = raises("EOPNOTSUPP", gdb[name], table.unpack(args))
  eq(err and err.op, "gdb." .. name)
  check(err and err.message:find(("on the '%s' backend"):format(backend.name), 1, true), tostring(err))
end
argerr("bad argument #1 to 'gdb.monitor' (string expected, got nil)", gdb.monitor)

-- Every other API error path keeps the state usable.
raises(Q and "ENXIO" or "ENOENT", kmem.symbol, "nope")
raises(Q and "ENXIO" or "EFAULT", kmem.read64, 0)
argerr("bad argument #2 to 'hex'", hex, 1, "wide")

-- Issue 12: text that is not UTF-8 is an error value, not mlua's userdata.
raises("ENOENT", kmem.symbol, "hz\xff")
raises("ENOENT", sim.output, "uart\xff")
local bad_name = raises("EINVAL", sim.device, { name = "d\xff", base = 0xFE500000, len = 0x1000 })
check(bad_name and bad_name.message:find("d\\xff", 1, true), "the bytes are shown: " .. tostring(bad_name))
raises("EINVAL", sim.claim, { base = 0x90000000, len = 0x1000000, owner = "ow\xfe" })
-- An owner with a NUL is refused, not cut at it (docs/MEM4.md §4).
raises("EINVAL", memrange.set, { base = 0xC0000000, len = 0x10000000, flags = "write-combine", owner = "ab\0cd" })
raises("EINVAL", memrange.remove, { base = 0xC0000000, len = 0x10000000, owner = "\0" })
raises("EINVAL", sim.claim, { base = 0x90000000, len = 0x1000000, owner = "a\0" })
local got_ranges, ranges = pcall(memrange.get)
for _, d in ipairs(got_ranges and ranges or {}) do
  check(d.owner ~= "ab", "nothing was set under the cut owner")
end

-- A descriptor table whose __index raises: its own error value comes out.
local mine = setmetatable({}, { __tostring = function() return "mine" end })
local raising = setmetatable({}, { __index = function() error(mine) end })
for name, f in pairs {
  ["memrange.set"] = memrange.set, ["memrange.remove"] = memrange.remove,
  ["sim.device"] = sim.device, ["sim.claim"] = sim.claim,
} do
  local ok4, got = pcall(f, raising)
  check(not ok4 and rawequal(got, mine), name .. ": the __index error itself, got " .. tostring(got))
  local ok5, msg = pcall(f, setmetatable({}, { __index = function(_, k) error("no " .. k) end }))
  check(not ok5 and type(msg) == "string" and msg:find(": no %l+$"), name .. ": " .. tostring(msg))
end
-- A __index that answers is read (once per field): inherited fields work.
if not Q then
  memrange.set(setmetatable({ owner = "inh" }, { __index = { base = 0xC0000000, len = 0x10000000, flags = "write-combine" } }))
  local inherited
  for _, d in ipairs(memrange.get()) do if d.owner == "inh" then inherited = d end end
  eq(inherited and inherited.base, 0xC0000000)
  memrange.remove { base = 0xC0000000, len = 0x10000000 }
end

-- Messages are capped: a 1 MB name does not make a 1 MB message.
local long = raises(Q and "ENXIO" or "ENOENT", kmem.symbol, ("x"):rep(1 << 20))
check(long and #long.message <= 1024 and #tostring(long) <= 1200, "capped: " .. #(long and long.message or ""))
local longarg = argerr("bad argument #1 to 'memrange.flags'", memrange.flags, ("y"):rep(1 << 20))
check(longarg and #longarg <= 1200, "argument errors are capped too: " .. #(longarg or ""))
local longop = require("memlua.host").error { errno = "EIO", op = ("o"):rep(1 << 16), message = "m" }
check(#longop.op <= 64, "op capped")

-- Afterwards everything still works.
mem.write32(A, 0xa1b2c3d4)
eq(mem.read32(A), 0xa1b2c3d4)
eq(w:read32(0), 0xa1b2c3d4)
if not Q then
  eq(memrange.count(), 96)
  eq(kmem.read32(kmem.symbol("hz")), 1000)
end
buf:write32(0, 7); eq(buf:read32(0), 7)
collectgarbage()
eq(mem.read32(A), 0xa1b2c3d4)
