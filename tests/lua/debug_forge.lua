-- The debug library stays as lua.c has it, and nothing it does to memlua's
-- objects can crash memlua or reach memory outside a window: objects are
-- known by a tag inside them, not by their metatable or user values.

local w = mem.map(0x100000, 16)
local big = mem.map(0x200000, 0x2000)
local b = mem.alloc(4096)
local pl = b:pages()
local wmt, bmt, pmt = debug.getmetatable(w), debug.getmetatable(b), debug.getmetatable(pl)
check(wmt and bmt and pmt and wmt ~= pmt, "each kind has its metatable")

-- A window dressed as a page list is not read as one.
debug.setmetatable(w, pmt)
eq(#w, nil, "#w is no page count")
eq(w[1], nil, "w[1] is no page")
argerr("on bad self", pl.state, w, 1)
argerr("on bad self", pl.paddr, w, 1)
debug.setmetatable(w, wmt)
eq(w:read32(0), mem.read32(0x100000), "the window still works")

-- A page list or a buffer dressed as a window.
debug.setmetatable(pl, wmt)
argerr("on bad self", w.read32, pl, 0)
argerr("on bad self", w.write, pl, 0, "x")
debug.setmetatable(pl, pmt)
eq(#pl, 1)
debug.setmetatable(b, wmt)
argerr("on bad self", w.read32, b, 0)
argerr("on bad self (memlua.window expected, got memlua.window)", w.read, b, 0, 4)
debug.setmetatable(b, bmt)
b:write32(0, 7); eq(b:read32(0), 7)

-- User values cannot widen a window: there are none to swap.
check(not debug.setuservalue(w, big), "no user value to set")
raises("EINVAL", w.read32, w, 0x1000)
raises("EINVAL", w.read32, w, 16)

-- __gc called by hand leaves a dead object every call refuses.
local w2 = mem.map(0x100000, 16)
wmt.__gc(w2)
argerr("on bad self", w.read32, w2, 0)
wmt.__gc(w2)
eq(tostring(w2), "window (collected)")
wmt.__gc(42)

-- Upvalues of the fast paths: anything put there is refused or ignored,
-- never followed.
local idx = wmt.__index
debug.setupvalue(idx, 1, 42)
eq(w.read32, nil, "no methods once the method table is gone")
check(w.len == 16, "fields still answer")
debug.setupvalue(pmt.__index, 1, {})

collectgarbage()
collectgarbage()

-- The fallback and the raiser replaced: a Lua error, not a wild call.
local write8 = mem.write8
debug.setupvalue(write8, 2, 42)
local ok, e = pcall(write8, "x", 1)
check(not ok and tostring(e):find("attempt to call", 1, true), tostring(e))
debug.setupvalue(write8, 3, 42)
ok, e = pcall(write8, 1 << 62, 1)
check(not ok and tostring(e):find("attempt to call", 1, true), tostring(e))
