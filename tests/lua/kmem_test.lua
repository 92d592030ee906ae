-- kmem: kernel virtual memory and symbols (kvm_nlist).

local KERNBASE = 0xffffffff80000000
local DMAP = 0xfffff80000000000

describe("kmem", function()
  local hz
  before_each(function() hz = kmem.symbol("hz") end)

  describe("symbols", function()
    it("are kernel addresses, negative integers in Lua", function()
      assert.equal(KERNBASE, kmem.symbol("kernbase"), "kernbase is a negative integer in Lua")
      assert.truthy(kmem.symbol("kernbase") < 0, "high kernel addresses are negative integers")
    end)

    it("name the kernel's variables", function()
      assert.equal(1000, kmem.read32(hz), "hz")
      local osname = kmem.read(kmem.symbol("ostype"), 8)
      assert.equal("FreeBSD\0", osname, "ostype")
      local v = kmem.read(kmem.symbol("version"), 64)
      assert.truthy(v:find("^FreeBSD") ~= nil, "version starts with FreeBSD: " .. v)
      assert.equal("FreeBSD 15.0-RELEASE memlua-sim pc", v:match("^[^%z]*"), "version, NUL-terminated")
    end)

    it("physmem counts the pages of RAM", function()
      local pages = 0
      for _, r in ipairs(sim.regions()) do
        if r.kind == "ram" then pages = pages + r.size // 4096 end
      end
      assert.equal(pages, kmem.read64(kmem.symbol("physmem")), "physmem")
    end)

    it("unknown: ENOENT; not a name: an argument error", function()
      local e = expect_error(kmem.symbol, "ENOENT", "no_such_symbol")
      assert.equal("kmem.symbol", e.op)
      assert.has_error(function() return kmem.symbol(42) end, "bad argument #1 to 'kmem.symbol' (symbol name expected, got number)")
      assert.has_error(function() return kmem.symbol() end, "bad argument #1 to 'kmem.symbol' (symbol name expected, got nil)")
    end)
  end)

  it("sees physical memory through the direct map", function()
    mem.write32(0x5000, 0x0badf00d)
    assert.equal(0x0badf00d, kmem.read32(DMAP + 0x5000), "direct map reads RAM")
    kmem.write32(DMAP + 0x5004, 0x12345678)
    assert.equal(0x12345678, mem.read32(0x5004), "direct map writes RAM")
    kmem.write(DMAP + 0x5008, "kmem")
    assert.equal("kmem", mem.read(0x5008, 4))
    assert.equal("kmem", kmem.read(DMAP + 0x5008, 4))
  end)

  -- Page 0 of the direct map too (pmap_extract gives 0).
  it("faults where nothing is mapped, single and bulk", function()
    local e2 = expect_error(kmem.read32, "EFAULT", 0xfffff00000000000)
    assert.equal("kmem.read32", e2.op)
    assert.equal(0xfffff00000000000, e2.addr)
    expect_error(kmem.read32, "EFAULT", 0x1000)
    expect_error(kmem.read64, "EFAULT", KERNBASE) -- maps physical 0, like pmap_extract gives 0
    expect_error(kmem.read, "EFAULT", 0x1000, 16)
    expect_error(kmem.write, "EFAULT", 0x1000, "x")
    expect_error(kmem.read32, "EINVAL", hz + 2)
  end)

  it("checks alignment first, mapped or not, as for physical addresses", function()
    expect_error(kmem.read32, "EINVAL", 0xfffff00000000002)
    expect_error(kmem.read16, "EINVAL", 1)
    expect_error(kmem.write64, "EINVAL", 0x1004, 0)
  end)

  it("maps kernel windows", function()
    local w = kmem.map(KERNBASE, 0x2000000)
    assert.equal(KERNBASE, w.base)
    assert.equal(1000, w:read32(hz - KERNBASE), "hz through a window")
  end)
end)
