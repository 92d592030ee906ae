-- kmem: kernel virtual memory and symbols (kvm_nlist).

local KERNBASE = 0xffffffff80000000
local DMAP = 0xfffff80000000000

eq(kmem.symbol("kernbase"), KERNBASE, "kernbase is a negative integer in Lua")
check(kmem.symbol("kernbase") < 0, "high kernel addresses are negative integers")
local hz = kmem.symbol("hz")
eq(kmem.read32(hz), 1000, "hz")
local osname = kmem.read(kmem.symbol("ostype"), 8)
eq(osname, "FreeBSD\0", "ostype")
local v = kmem.read(kmem.symbol("version"), 64)
check(v:find("^FreeBSD") ~= nil, "version starts with FreeBSD: " .. v)
eq(v:match("^[^%z]*"), "FreeBSD 15.0-RELEASE memlua-sim pc", "version, NUL-terminated")

-- physmem counts the pages of RAM.
local pages = 0
for _, r in ipairs(sim.regions()) do
  if r.kind == "ram" then pages = pages + r.size // 4096 end
end
eq(kmem.read64(kmem.symbol("physmem")), pages, "physmem")

local e = raises("ENOENT", kmem.symbol, "no_such_symbol")
eq(e and e.op, "kmem.symbol")
argerr("bad argument #1 to 'kmem.symbol' (symbol name expected, got number)", kmem.symbol, 42)
argerr("bad argument #1 to 'kmem.symbol' (symbol name expected, got nil)", kmem.symbol)

-- The direct map sees physical memory.
mem.write32(0x5000, 0x0badf00d)
eq(kmem.read32(DMAP + 0x5000), 0x0badf00d, "direct map reads RAM")
kmem.write32(DMAP + 0x5004, 0x12345678)
eq(mem.read32(0x5004), 0x12345678, "direct map writes RAM")
kmem.write(DMAP + 0x5008, "kmem")
eq(mem.read(0x5008, 4), "kmem")
eq(kmem.read(DMAP + 0x5008, 4), "kmem")

-- Not mapped: EFAULT, for single and bulk accesses; page 0 of the direct
-- map too (pmap_extract gives 0).
local e2 = raises("EFAULT", kmem.read32, 0xfffff00000000000)
eq(e2 and e2.op, "kmem.read32")
eq(e2 and e2.addr, 0xfffff00000000000)
raises("EFAULT", kmem.read32, 0x1000)
raises("EFAULT", kmem.read64, KERNBASE) -- maps physical 0, like pmap_extract gives 0
raises("EFAULT", kmem.read, 0x1000, 16)
raises("EFAULT", kmem.write, 0x1000, "x")
raises("EINVAL", kmem.read32, hz + 2)
-- Alignment is checked first, mapped or not, as for physical addresses.
raises("EINVAL", kmem.read32, 0xfffff00000000002)
raises("EINVAL", kmem.read16, 1)
raises("EINVAL", kmem.write64, 0x1004, 0)

-- A kernel window.
local w = kmem.map(KERNBASE, 0x2000000)
eq(w.base, KERNBASE)
eq(w:read32(hz - KERNBASE), 1000, "hz through a window")
