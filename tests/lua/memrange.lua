-- memrange: MEMRANGE_GET / MEMRANGE_SET with docs/MEM4.md §4's rules on pc:
-- 88 fixed descriptors + 8 variable slots, 4 set by firmware (the acpi one
-- busy), so 96 descriptors and 4 free slots.

local M = memrange

-- The constants: all 14 named bits.
local bits = {
  UNCACHEABLE = 0x1, WRITECOMBINE = 0x2, WRITETHROUGH = 0x4, WRITEBACK = 0x8,
  WRITEPROTECT = 0x10, UNKNOWN = 0x20, FIXBASE = 0x01000000, FIXLEN = 0x02000000,
  FIRMWARE = 0x04000000, ACTIVE = 0x08000000, BOGUS = 0x10000000,
  FIXACTIVE = 0x20000000, BUSY = 0x40000000, FORCE = 0x80000000,
}
for name, v in pairs(bits) do eq(M[name], v, "memrange." .. name) end
check(M.FORCE > 0, "FORCE is the integer 0x80000000, not negative")

-- Names, memcontrol's words, both ways.
eq(M.flags("write-combine,active"), M.WRITECOMBINE | M.ACTIVE)
eq(M.flags("write-combine active"), M.WRITECOMBINE | M.ACTIVE)
eq(M.flags(""), 0)
eq(M.names(M.WRITECOMBINE | M.ACTIVE), "write-combine active")
eq(M.names(0), "")
eq(M.names(M.BUSY | M.FIXACTIVE), "", "BUSY and FIXACTIVE have no name")
for _, n in ipairs { "uncacheable", "write-combine", "write-through", "write-back",
    "write-protect", "force", "unknown", "fixed-base", "fixed-length",
    "set-by-firmware", "active", "bogus" } do
  eq(M.names(M.flags(n)), n, "round trip " .. n)
end
argerr("unknown flag name 'fast'", M.flags, "fast")
argerr("bad argument #1 to 'memrange.names' (flag bits expected, got string 'active')", M.names, "active")

-- count and get.
eq(M.count(), 96)
local all = M.get()
eq(#all, 96)
eq(#M.get(5), 5)
eq(#M.get(0), 0)
eq(#M.get(1000), 96, "min(n, count)")
local d0 = all[1]
eq(d0.base, 0); eq(d0.len, 0x10000)
eq(d0.flags & M.ATTRMASK, M.WRITEBACK, "fixed slot 0 is write-back")
check(d0.flags & M.FIXACTIVE ~= 0 and d0.flags & M.ACTIVE ~= 0, "fixed slots are FIXACTIVE and ACTIVE")
eq(d0.owner, "BIOS")
eq(all[9].base, 0x80000); eq(all[9].len, 0x4000)
eq(all[25].base, 0xC0000); eq(all[25].len, 0x1000)
eq(all[24].flags & M.ATTRMASK, M.UNCACHEABLE, "0xBC000 uncacheable")
eq(all[25].flags & M.ATTRMASK, M.WRITEPROTECT, "0xC0000 write-protect")

local function find(base, len)
  for _, d in ipairs(M.get()) do
    if d.base == base and d.len == len then return d end
  end
end
local acpi = find(0xFE000000, 0x4000)
check(acpi, "the firmware's acpi range")
if acpi then
  eq(acpi.owner, "acpi")
  check(acpi.flags & M.BUSY ~= 0, "acpi is busy")
  eq(acpi.flags & M.ATTRMASK, M.UNCACHEABLE)
end

-- set / get / remove in a variable slot.
M.set { base = 0xC0000000, len = 0x10000000, flags = M.WRITECOMBINE, owner = "test" }
local d = find(0xC0000000, 0x10000000)
check(d, "the new range is listed")
if d then
  eq(d.flags & M.ATTRMASK, M.WRITECOMBINE)
  check(d.flags & M.ACTIVE ~= 0, "active")
  eq(d.owner, "test")
end
-- update in place, flags as names
M.set { base = 0xC0000000, len = 0x10000000, flags = "write-through", owner = "test" }
eq(find(0xC0000000, 0x10000000).flags & M.ATTRMASK, M.WRITETHROUGH)
M.remove { base = 0xC0000000, len = 0x10000000 }
d = find(0xC0000000, 0x10000000)
check(not d or d.flags & M.ACTIVE == 0, "removed: no longer active")
local e = raises("ENOENT", M.remove, { base = 0x12340000, len = 0x10000 })
eq(e and e.op, "memrange.remove")

-- Fixed ranges: the request is bloated to whole slots.
M.set { base = 0xA0000, len = 0x1000, flags = "write-combine", owner = "fb" }
local slot = find(0xA0000, 0x4000)
eq(slot and slot.flags & M.ATTRMASK, M.WRITECOMBINE, "the 16 KiB slot took the type")
eq(slot and slot.owner, "fb")
local e2 = raises("EPERM", M.remove, { base = 0, len = 0x10000 })
eq(e2 and e2.addr, 0)

-- Busy: another owner's range is neither updated nor removed.
local eb = raises("EBUSY", M.set, { base = 0xFE000000, len = 0x4000, flags = "write-combine" })
eq(eb and tostring(eb), "memrange.set: EBUSY: " .. (eb and eb.message or "") .. " (base=0xfe000000 len=0x4000)")
raises("EBUSY", M.remove, { base = 0xFE000000, len = 0x4000 })

-- Invalid geometry and types.
raises("EINVAL", M.set, { base = 0x1000, len = 0x3000, flags = M.WRITEBACK })
raises("EINVAL", M.set, { base = 0x1000, len = 0x1000, flags = 0 })
raises("EINVAL", M.set, { base = 0xD0000000, len = 0x1000, flags = M.WRITEBACK | M.WRITECOMBINE })
raises("EINVAL", M.set, { base = 0xD0000000, len = 0x1000, flags = 0x40 | M.WRITEBACK })
-- An overlap the platform cannot express: write-combine inside write-back RAM.
raises("EINVAL", M.set, { base = 0x10000000, len = 0x1000000, flags = "write-combine" })

-- Fill the 4 free slots, then ENOSPC.
for i = 0, 3 do
  M.set { base = 0x90000000 + i * 0x1000000, len = 0x1000000, flags = "write-combine", owner = "fill" .. i }
end
local full = raises("ENOSPC", M.set, { base = 0x98000000, len = 0x1000000, flags = "write-combine" })
eq(full and full.op, "memrange.set")
M.remove { base = 0x90000000, len = 0x1000000 }
M.set { base = 0x98000000, len = 0x1000000, flags = "write-combine" }
eq(find(0x98000000, 0x1000000).owner, "BIOS", "no owner given: the re-read names an active ownerless range BIOS (docs/MEM4.md §4.2)")

-- A claim by another owner makes a range busy to this session.
sim.claim { base = 0x91000000, len = 0x1000000, owner = "gpu" }
local g = find(0x91000000, 0x1000000)
check(g and g.flags & M.BUSY ~= 0, "claimed range is BUSY")
eq(g and g.owner, "gpu")
raises("EBUSY", M.set, { base = 0x91000000, len = 0x1000000, flags = "uncacheable" })
raises("EBUSY", M.remove, { base = 0x91000000, len = 0x1000000 })
eq(M.count(), 96, "count never changes")

-- Argument errors name the field.
argerr("bad argument #1 to 'memrange.set' (field 'base' is missing)", M.set, { len = 0x1000, flags = 1 })
argerr("field 'len' is missing", M.set, { base = 0, flags = 1 })
argerr("field 'flags' is missing", M.set, { base = 0, len = 0x1000 })
argerr("field 'flags': unknown flag name 'fast'", M.set, { base = 0, len = 0x1000, flags = "fast" })
argerr("field 'owner'", M.set, { base = 0, len = 0x1000, flags = 1, owner = "12345678" })
argerr("field 'owner'", M.set, { base = 0, len = 0x1000, flags = 1, owner = 5 })
argerr("field 'base': integer expected, got 1.5", M.set, { base = 1.5, len = 0x1000, flags = 1 })
argerr("bad argument #1 to 'memrange.set' (table expected, got number)", M.set, 5)
argerr("bad argument #1 to 'memrange.get' (length must not be negative, got -1)", M.get, -1)
-- a 7-byte owner is fine
M.set { base = 0x98000000, len = 0x1000000, flags = "write-combine", owner = "1234567" }
eq(find(0x98000000, 0x1000000).owner, "1234567")

-- Other boards: no descriptors (ENXIO), no range support (EOPNOTSUPP).
local nomtrr = new_session("pc-nomtrr").memrange
raises("ENXIO", nomtrr.count)
raises("ENXIO", nomtrr.get)
raises("ENXIO", nomtrr.set, { base = 0xC0000000, len = 0x1000, flags = "uncacheable" })
raises("ENXIO", nomtrr.remove, { base = 0xC0000000, len = 0x1000 })
local arm = new_session("arm64-virt").memrange
local eo = raises("EOPNOTSUPP", arm.count)
eq(eo and eo.op, "memrange.count")
raises("EOPNOTSUPP", arm.get)
raises("EOPNOTSUPP", arm.set, { base = 0x40000000, len = 0x1000, flags = "uncacheable" })
raises("EOPNOTSUPP", arm.remove, { base = 0x40000000, len = 0x1000 })
eq(arm.WRITECOMBINE, 2, "the constants exist everywhere")

-- mr_flags is an int: bit sets wider than 32 bits are refused, not cut.
argerr("do not fit in 32 bits", memrange.set, { base = 0x300000000, len = 0x1000, flags = 0x100000008 })
argerr("do not fit in 32 bits", memrange.set, { base = 0x300000000, len = 0x1000, flags = (1 << 40) | 8 })
argerr("do not fit in 32 bits", memrange.flags, 0x100000008)
argerr("do not fit in 32 bits", memrange.flags, "0x100000008")
argerr("flag bits expected", memrange.names, 0x100000008)
eq(memrange.flags(-0x80000000), memrange.FORCE, "FORCE as a negative int")
eq(memrange.flags(0xffffffff), 0xffffffff)
eq(memrange.names(-0x7ffffff8), "write-back force")

-- An owner is bytes (char mr_owner[8]), kept as given even when not text.
local fresh = new_session("pc").memrange
fresh.set { base = 0x300000000, len = 0x1000, flags = "write-back", owner = "\xff\xfe" }
local owners = {}
for _, d in ipairs(fresh.get()) do owners[#owners + 1] = d.base == 0x300000000 and d.owner or nil end
eq(owners[1], "\xff\xfe")
