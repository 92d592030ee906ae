-- Windows: mem.map / kmem.map, bounds-checked views for loops. Also run on
-- a QEMU q35 machine (tests/qemu.rs), without the pc board's devices.

local Q = backend.name == "qemu"

local w = mem.map(0x20000, 0x100)
eq(w.base, 0x20000)
eq(w.len, 0x100)
eq(w.nothing, nil, "unknown fields are nil")
check(tostring(w):find("window") ~= nil, "tostring names a window")

-- Accesses go to base + off, one access of exactly the width.
w:write32(0, 0xcafebabe)
eq(mem.read32(0x20000), 0xcafebabe)
eq(w:read32(0), 0xcafebabe)
w:write8(0xff, 0x5a)
eq(mem.read8(0x200ff), 0x5a, "the last byte")
eq(w:read8(0xff), 0x5a)
w:write16(0x10, -1); eq(w:read16(0x10), 0xffff)
w:write64(0xf8, -2); eq(w:read64(0xf8), -2)
eq(mem.read64(0x200f8), -2)
w:write(0x20, "window bytes")
eq(w:read(0x20, 12), "window bytes")
eq(mem.read(0x20020, 12), "window bytes")
eq(w:read(0, 0), "")
eq(#w:read(0, 0x100), 0x100, "the whole window")

-- Past the end: EINVAL naming the offset and the length; nothing touched.
mem.write(0x20100, "\1\2\3\4\5\6\7\8")
local e = raises("EINVAL", w.read32, w, 0x100)
check(e and e.message:find("0x100", 1, true) and e.message:find("length 0x100", 1, true),
  "names offset and length: " .. tostring(e))
eq(e and e.op, "window.read32")
raises("EINVAL", w.read64, w, 0xfc)
raises("EINVAL", w.write32, w, 0xfe, 0)
raises("EINVAL", w.read, w, 0xf0, 0x20)
raises("EINVAL", w.write, w, 0xf8, "0123456789abcdef")
raises("EINVAL", w.write8, w, -1, 0)
eq(mem.read(0x20100, 8), "\1\2\3\4\5\6\7\8", "a refused window write touches nothing")
eq(w:read64(0xf8), -2, "nor the part inside the window")

-- Alignment is the backend's rule inside windows too.
raises("EINVAL", w.read32, w, 2)
-- Values must fit.
raises("EINVAL", w.write8, w, 0, 0x100)

-- Offsets are numbers like addresses.
eq(w:read32("0x0"), 0xcafebabe)
eq(w:read32(0.0), 0xcafebabe)
argerr("bad argument #1 to 'read32' (offset expected, got string 'x')", w.read32, w, "x")
argerr("bad argument #2 to 'write32' (value expected, got 1.5)", w.write32, w, 0, 1.5)
argerr("calling 'read32' on bad self (memlua.window expected, got nil)", w.read32, nil, 0)
argerr("calling 'read32' on bad self", w.read32, {}, 0)
argerr("bad argument #2 to 'read' (length must not be negative, got -1)", w.read, w, 0, -1)

-- Mapping: zero length and wrap-around are refused.
raises("EINVAL", mem.map, 0x1000, 0)
raises("EINVAL", mem.map, -4096, 8192)
argerr("bad argument #2 to 'mem.map' (length must not be negative, got -5)", mem.map, 0, -5)

-- A loop over a window: the fast path.
local big = mem.map(0x100000, 0x10000)
for off = 0, 0xfffc, 4 do big:write32(off, off) end
local sum = 0
for off = 0, 0xfffc, 4 do sum = sum + big:read32(off) end
eq(sum, (0xfffc // 4) * (0xfffc // 4 + 1) // 2 * 4, "sum over the window")

if Q then
  -- A window on a device: QEMU's HPET, its counter run by qemu.run.
  local h = mem.map(0xFED00000, 0x400)
  eq(h:read32(4), 0x00989680, "HPET period")
  h:write32(0x10, 1)
  local c0 = h:read64(0xf0)
  qemu.run(1000000)
  check(h:read64(0xf0) - c0 >= 100000, "HPET advanced by 1 ms")
  h:write32(0x10, 0)
  raises("EFAULT", mem.map(1 << 40, 16).read32, mem.map(1 << 40, 16), 0)
else
  -- A window on a device: the timer counts.
  local t = mem.map(0xFE001000, 0x1000)
  local t0 = t:read64(0)
  sim.advance(1000000)
  check(t:read64(0) - t0 >= 10000, "10 MHz timer advanced by 1 ms")
  eq(t:read32(8), 10000000, "timer frequency register")

  -- Windows over a hole and high memory.
  eq(mem.map(0x80000000, 16):read32(4), 0xffffffff)
  raises("EFAULT", mem.map(1 << 39, 16).read32, mem.map(1 << 39, 16), 0)
end

-- The fast paths (hand-written C for loops) agree with the ordinary ones.
do
  local a, b = mem.map(0x30000, 0x100), mem.map(0x31000, 0x100)
  -- Alternating windows: each call finds its own window, not the last one.
  for i = 0, 15 do
    a:write32(i * 4, i)
    b:write32(i * 4, 100 + i)
  end
  for i = 0, 15 do
    eq(a:read32(i * 4), i, "window a at " .. i)
    eq(b:read32(i * 4), 100 + i, "window b at " .. i)
  end
  -- Integral floats and numeric strings are offsets and values too.
  eq(a:read32(4.0), 1)
  eq(a:read32("0x8"), 2)
  a:write16("0x10", 0xbeef)
  eq(a:read16(16), 0xbeef)
  a:write8(17.0, 1.0)
  eq(a:read8(0x11), 1)
  -- A bad argument to a fast method is still Lua's argument error.
  local ok, msg = pcall(a.read32, a, 1.5)
  check(not ok and tostring(msg):find("bad argument #1 to 'read32'", 1, true), tostring(msg))
  ok, msg = pcall(a.read32, "not a window", 0)
  check(not ok and tostring(msg):find("on bad self", 1, true), tostring(msg))
  ok, msg = pcall(a.read32, nil, 0)
  check(not ok and tostring(msg):find("on bad self", 1, true), tostring(msg))
  -- Another kind of userdata is not a window, even after a window was seen.
  local buf = Q and new_session("pc").mem.alloc(4096) or mem.alloc(4096)
  ok, msg = pcall(a.read32, buf, 0)
  check(not ok and tostring(msg):find("on bad self", 1, true), tostring(msg))
  buf:free()
  -- A backend error from the fast path is an error value (QEMU has no
  -- kernel memory: ENXIO).
  local k = kmem.map(0xffffffff80000000 - 0x1000, 0x2000)
  local e = raises(Q and "ENXIO" or "EFAULT", k.read32, k, 0)
  eq(e and e.op, "kmem.read32")
  eq(e and e.addr, 0xffffffff80000000 - 0x1000)
  -- Width and alignment errors from the backend, through the fast path.
  if not Q then
    local dev = mem.map(0xFE000000, 0x1000)
    raises("EINVAL", dev.read32, dev, 0)
  end
  raises("EINVAL", a.write8, a, 0, 0x100)
  raises("EINVAL", mem.write8, 0x30000, 0x100)
  -- mem.read32 and friends in their fast form.
  eq(mem.read32(0x30004), 1)
  eq(mem.read32(0x30004.0), 1)
  eq(mem.read32("0x30004"), 1)
  mem.write32(0x30008, -1)
  eq(mem.read32(0x30008), 0xffffffff)
  eq(select(2, pcall(mem.read32, 1 << 40)).errno, "EFAULT")
end

-- A window of another session reaches that session's memory.
do
  local other = new_session("arm64-virt")
  local ow = other.mem.map(0x40000000, 0x100)
  local mine = mem.map(0x40000000, 0x100)
  ow:write32(0, 0x1111)
  mine:write32(0, 0x2222)
  eq(ow:read32(0), 0x1111, "the other board's RAM")
  eq(mine:read32(0), 0x2222, "this board's RAM")
  eq(other.mem.read32(0x40000000), 0x1111)
end
