-- mem.extract, mem.extract_range (page lists) and mem.alloc (buffers).

local PAGE = 4096

-- Invalid is a state, never an error.
local e = mem.extract(0)
eq(e.state, "invalid")
eq(e.vaddr, 0)
eq(e.paddr, nil)
eq(e.domain, nil)

local b = mem.alloc(3 * PAGE + 1)
eq(b.len, 3 * PAGE + 1)
eq(b.addr % PAGE, 0, "page-aligned")
check(tostring(b):find("buffer") ~= nil)

-- Untouched: valid, not mapped.
e = mem.extract(b.addr)
eq(e.state, "valid")
eq(e.paddr, nil)
eq(e.domain, nil)
eq(e.why, nil)

-- Touched: mapped to a frame that holds the data.
b:write32(0, 0x12345678)
e = mem.extract(b.addr + 8)
eq(e.state, "mapped")
eq(e.vaddr, b.addr + 8)
check(math.type(e.paddr) == "integer", "paddr set")
eq(e.paddr % PAGE, 8, "paddr keeps the page offset")
eq(mem.read32(e.paddr - 8), 0x12345678, "the frame holds the buffer's data")
check(e.domain == 0 or e.domain == 1, "pc has domains 0 and 1")
-- A DMA-like write to the frame is seen by the buffer.
mem.write32(e.paddr - 8 + 4, 0xcafef00d)
eq(b:read32(4), 0xcafef00d)

-- Buffer accessors.
b:write8(1, 0xff); eq(b:read8(1), 0xff)
b:write16(2, -1); eq(b:read16(2), 0xffff)
b:write64(8, -1); eq(b:read64(8), -1)
b:write(PAGE - 2, "span")
eq(b:read(PAGE - 2, 4), "span", "across a page boundary")
eq(b:read(0, 0), "")
raises("EINVAL", b.read32, b, 3 * PAGE)
raises("EINVAL", b.read, b, 3 * PAGE, 2)
raises("EINVAL", b.write, b, 3 * PAGE, "xx")
raises("EINVAL", b.read32, b, 2)
raises("EINVAL", b.write8, b, 0, 0x100)

-- Page lists: one entry per page, built on demand.
local pl = b:pages()
eq(#pl, 4)
eq(pl:state(1), "mapped")
eq(pl:state(2), "mapped", "page 2 was touched by the spanning write")
eq(pl:state(3), "valid")
eq(pl:state(4), "valid")
eq(pl:paddr(3), nil)
eq(pl:domain(3), nil)
eq(pl[1].paddr, pl:paddr(1))
eq(pl[1].state, "mapped")
eq(pl[1].vaddr, b.addr)
-- Indexed as a table is: an integral float is the same key.
eq(pl[1.0].vaddr, b.addr)
eq(pl[0.5], nil)
eq(pl["1"], nil)
eq(pl[2].vaddr, b.addr + PAGE)
eq(pl:domain(1), pl[1].domain)
eq(pl[0], nil, "like a table: nil outside 1..#pl")
eq(pl[5], nil)
argerr("bad argument #1 to 'state' (page index 1..4 expected, got 5)", pl.state, pl, 5)
argerr("calling 'paddr' on bad self", pl.paddr, b, 1)
check(tostring(pl):find("4 pages") ~= nil)

-- extract_range from an unaligned address: the first entry is the address.
local pr = mem.extract_range(b.addr + 100, PAGE)
eq(#pr, 2)
eq(pr[1].vaddr, b.addr + 100)
eq(pr[2].vaddr, b.addr + PAGE)
eq(#mem.extract_range(b.addr, 0), 0)
eq(mem.extract_range(0, PAGE):state(1), "invalid")
-- The page past the buffer is a guard page: invalid.
eq(mem.extract(b.addr + 4 * PAGE).state, "invalid")
raises("EINVAL", mem.extract_range, -4096, 8192)
raises("EINVAL", mem.extract_range, 0, 1 << 40)

-- A long walk without building tables.
local many = mem.alloc(256 * PAGE)
local list = many:pages()
local valid = 0
for i = 1, #list do if list:state(i) == "valid" then valid = valid + 1 end end
eq(valid, 256)

-- lock wires every page; reclaim pages out only unlocked ones.
local c = mem.alloc(2 * PAGE)
c:write32(0, 0xabcdef01)
eq(c:pages():state(1), "mapped")
b:lock()
check(sim.reclaim() >= 1, "reclaim paged something out")
eq(c:pages():state(1), "valid", "reclaimed")
eq(c:read32(0), 0xabcdef01, "data kept, page maps again when touched")
eq(c:pages():state(1), "mapped")
eq(b:pages():state(4), "mapped", "lock made every page resident")
eq(b:read32(0), 0xffffff78, "bytes 1-3 were overwritten above")
b:unlock()

-- free: the addresses become invalid; every use is a clear error.
local addr = b.addr
b:free()
eq(mem.extract(addr).state, "invalid")
for _, use in ipairs {
  function() return b:read32(0) end,
  function() return b:write32(0, 1) end,
  function() return b:read(0, 1) end,
  function() return b:write(0, "x") end,
  function() return b:lock() end,
  function() return b:unlock() end,
  function() return b:pages() end,
  function() return b:free() end,
} do
  local err = raises("EINVAL", use)
  check(err and err.message:find("freed", 1, true), "the error says freed: " .. tostring(err))
end
check(tostring(b):find("freed") ~= nil)

-- Allocation errors.
raises("EINVAL", mem.alloc, 0)
raises("ENOMEM", mem.alloc, 1 << 40)
argerr("bad argument #1 to 'mem.alloc' (length must not be negative, got -1)", mem.alloc, -1)
argerr("bad argument #1 to 'mem.extract' (address expected, got table)", mem.extract, {})
