-- One script, every backend: everything here holds on the simulator's pc
-- board, on the native backend over a 64 MiB file (tests/lua_suites.rs
-- and tests/lua_native.rs both run it), on a replay of its run on the
-- simulator (tests/trace.rs), on a QEMU q35 machine (tests/qemu.rs), on
-- QEMU's gdbstub (tests/gdb.rs: "gdb", bytes only) and on a backend that
-- only moves bytes ("vec", where the rest is EOPNOTSUPP). It uses memory
-- at 1-2 MiB.

local B = 0x100000
local bare = backend.name == "vec" or backend.name == "gdb"
local on_qemu = backend.name == "qemu"
check(backend.name == "sim" or backend.name == "native" or backend.name == "replay" or bare
  or on_qemu, "backend.name")
eq(backend.writable, true)

-- Every width round-trips; values fit signed or unsigned.
for _, w in ipairs{8, 16, 32, 64} do
  local v = w == 64 and -2 or (1 << w) - 2
  mem["write" .. w](B, v)
  eq(mem["read" .. w](B), v, "width " .. w)
end
mem.write8(B, -1); eq(mem.read8(B), 0xff)
mem.write16(B, 0xbeef); eq(mem.read8(B), 0xef, "little-endian")
mem.write32(B, 0x11223344)
local e = raises("EINVAL", mem.write8, B, 0x100)
eq(e and e.op, "mem.write8")
eq(mem.read32(B), 0x11223344, "a refused write writes nothing")
raises("EINVAL", mem.read32, B + 2)
raises("EINVAL", mem.write64, B + 4, 0)

-- Addresses: integral floats and numeric strings; nothing else.
eq(mem.read32(B + 0.0), 0x11223344)
eq(mem.read32(("0x%x"):format(B)), 0x11223344)
argerr("bad argument #1 to 'mem.read32' (address expected, got 1.5)", mem.read32, 1.5)
argerr("address expected, got nil", mem.read32, nil)
argerr("address expected, got table", mem.read32, {})
argerr("address expected", mem.read32, "abc")

-- Bulk.
mem.write(B + 0x101, "portable bytes")
eq(mem.read(B + 0x101, 14), "portable bytes")
eq(mem.read(B, 0), "")
argerr("length", mem.read, B, -1)
e = raises("EINVAL", mem.read, B, (1 << 30) + 1)
check(e and e.message:find("map", 1, true), "names windows as the way: " .. tostring(e))

-- Error values.
e = raises("EINVAL", mem.read16, B + 1)
check(type(e.code) == "number" and e.code > 0, "e.code")
eq(e.addr, B + 1)
check(type(e.message) == "string" and #e.message > 0, "e.message")
check(tostring(e):find("^mem.read16: EINVAL: ") ~= nil, tostring(e))

-- Windows.
local w = mem.map(B, 0x1000)
eq(w.base, B); eq(w.len, 0x1000)
for _, bits in ipairs{8, 16, 32, 64} do
  w["write" .. bits](w, 0x800, 0x5a)
  eq(w["read" .. bits](w, 0x800), 0x5a, "window width " .. bits)
end
w:write(0x10, "via window")
eq(mem.read(B + 0x10, 10), "via window")
eq(w:read(0x10, 10), "via window")
e = raises("EINVAL", w.read32, w, 0x1000)
check(e and e.message:find("0x1000", 1, true), "names the length: " .. tostring(e))
argerr("on bad self", w.read32, 42, 0)
local w2 = mem.map(B + 0x1000, 0x1000)
for i = 0, 7 do w:write32(i * 4, i); w2:write32(i * 4, 100 + i) end
for i = 0, 7 do eq(w:read32(i * 4), i); eq(w2:read32(i * 4), 100 + i) end

-- qemu.* exists everywhere and answers EOPNOTSUPP off a QEMU machine
-- (on one, also through a layer).
if on_qemu then
  check(qemu.hmp("info version"):find("^%d+%.%d+") ~= nil, "qemu.hmp")
else
  e = raises("EOPNOTSUPP", qemu.hmp, "info version")
  check(e and e.message:find("-b qemu", 1, true), tostring(e))
  eq(e and e.op, "qemu.hmp")
  raises("EOPNOTSUPP", qemu.io_read8, 0x70)
end

-- Buffers and lookups of this process.
raises("EINVAL", mem.alloc, 0)
if bare or on_qemu then
  -- A backend without them says so, naming itself.
  e = raises("EOPNOTSUPP", mem.alloc, 4096)
  check(e and e.message:find("'" .. backend.name .. "' backend", 1, true), tostring(e))
  eq(e and e.op, "mem.alloc")
  raises("EOPNOTSUPP", mem.extract, 0x1000)
  raises("EOPNOTSUPP", mem.extract_range, 0x1000, 0x2000)
  raises("EOPNOTSUPP", memrange.count)
  raises("EOPNOTSUPP", memrange.get)
  raises("EOPNOTSUPP", memrange.set, {base = 0xa0000, len = 0x20000, flags = "write-combine"})
  -- No kernel runs in a QEMU machine memlua starts: kernel memory is ENXIO.
  local nokernel = on_qemu and "ENXIO" or "EOPNOTSUPP"
  raises(nokernel, kmem.symbol, "hz")
  raises(nokernel, kmem.read32, 0xffffffff80000000)
  raises("EOPNOTSUPP", sim.regions)
  eq(memrange.names(memrange.flags("write-combine,active")), "write-combine active")
  return
end
local b = mem.alloc(3 * 4096)
eq(b.addr % 4096, 0)
b:write32(4096, 0xfeed)
eq(b:read32(4096), 0xfeed)
b:lock()
local pl = b:pages()
eq(#pl, 3)
for i = 1, 3 do eq(pl:state(i), "mapped", "locked page " .. i) end
local x = mem.extract(b.addr + 4100)
eq(x.state, "mapped")
eq(x.vaddr, b.addr + 4100)
check(x.paddr == nil or x.paddr % 4096 == 4, "paddr keeps the page offset")
b:unlock()
local addr = b.addr
b:free()
eq(mem.extract(addr).state, "invalid", "a freed buffer")
raises("EINVAL", b.read32, b, 0)
eq(mem.extract(0).state, "invalid", "address 0")

-- Memory ranges exist or say why not; symbols are looked up or ENOENT.
local ok, n = pcall(memrange.count)
check(ok and n > 0 or (type(n) == "table" and (n.errno == "ENXIO" or n.errno == "EOPNOTSUPP")),
  "memrange.count: " .. tostring(n))
raises("ENOENT", kmem.symbol, "memlua_no_such_symbol")
eq(memrange.names(memrange.flags("write-combine,active")), "write-combine active")
