-- mem: physical memory of the pc board, as mem(4) on amd64 sees it; on a
-- QEMU q35 machine (tests/qemu.rs) the parts that are not the pc board's.

-- QEMU's q35: 2 GiB of RAM, 40 address bits, no pc-board devices.
local Q = backend.name == "qemu"
local TOP = Q and 1 << 40 or 1 << 39
eq(backend.name, Q and "qemu" or "sim")
eq(backend.writable, true)
eq(backend.board, Q and "q35" or "pc")

-- RAM: every width, one access each.
mem.write64(0x2000, 0x1122334455667788)
eq(mem.read64(0x2000), 0x1122334455667788)
eq(mem.read32(0x2000), 0x55667788, "little-endian low half")
eq(mem.read32(0x2004), 0x11223344)
eq(mem.read16(0x2002), 0x5566)
eq(mem.read8(0x2007), 0x11)
-- untouched RAM reads zero, high RAM too (domain 1)
eq(mem.read64(0x3000), 0)
if not Q then
  mem.write32(0x100000000, 0xa5a5a5a5)
  eq(mem.read32(0x100000000), 0xa5a5a5a5, "RAM above 4 GiB")
end

-- Bulk transfers: any alignment and length.
mem.write(0x2001, "hello, world")
eq(mem.read(0x2001, 12), "hello, world")
eq(mem.read(0x2000, 0), "", "a zero-length read")
eq(#mem.read(0x4000, 10000), 10000)
mem.write(0x4000, string.rep("\xab", 5000))
eq(mem.read(0x4000 + 4999, 2), "\xab\0", "bulk write stops at its end")
mem.write(0x2000, "")

if not Q then
  -- Holes read all ones and drop writes (holes = "ones" on pc).
  eq(mem.read32(0x80000000), 0xffffffff, "hole reads ones")
  mem.write32(0x80000000, 0)
  eq(mem.read32(0x80000000), 0xffffffff, "hole drops writes")
  eq(mem.read(0xC8000, 4), "\xff\xff\xff\xff", "ISA hole")

  -- ROM: option ROM signature, BIOS reset vector and date; writes ignored.
  eq(mem.read8(0xC0000), 0x55)
  eq(mem.read8(0xC0001), 0xAA)
  eq(mem.read8(0xFFFF0), 0xEA)
  eq(mem.read(0xFFFF5, 8), "11/26/26")
  mem.write8(0xC0000, 0)
  eq(mem.read8(0xC0000), 0x55, "ROM ignores writes")
else
  -- SeaBIOS's reset jump and date; its ROM ignores writes.
  eq(mem.read(0xFFFF0, 5), "\xea\x5b\xe0\x00\xf0")
  eq(mem.read(0xFFFF5, 8), "06/23/99")
  mem.write8(0xFFFF0, 0)
  eq(mem.read8(0xFFFF0), 0xEA, "ROM ignores writes")
end

-- Above maxphyaddr (39 bits; QEMU's 40): EFAULT, never EINVAL.
local e = raises("EFAULT", mem.read32, TOP)
eq(e and e.op, "mem.read32")
eq(e and e.addr, TOP)
eq(e and type(e.code), "number")
raises("EFAULT", mem.write32, TOP, 0)
local eb = raises("EFAULT", mem.read, TOP - 2, 4)
eq(eb and eb.op, "mem.read")
eq(eb and eb.done, 0, "nothing is moved on a failed bulk read")
raises("EFAULT", mem.write, TOP - 2, "abcd")

-- A read of more than 1 GiB is refused before anything is allocated.
local big = raises("EINVAL", mem.read, 0, (1 << 30) + 1)
check(big and big.message:find("mem.map", 1, true) and big.message:find("loop", 1, true),
  "the message names windows and loops")
eq(#mem.read(0x80000000, 16), 16)

-- Devices answer at their registers: the scratch registers hold values
-- (QEMU's HPET its ID).
if Q then
  eq(mem.read32(0xFED00000), 0x8086a201, "hpet")
else
  mem.write32(0xFE003000, 0xfeedface)
  eq(mem.read32(0xFE003000), 0xfeedface, "scratch0 register")
end
