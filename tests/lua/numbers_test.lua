-- Numbers (docs/API.md): addresses and values are u64 bit patterns; integral
-- floats and numeric strings are accepted; anything else is an argument
-- error naming the argument; values must fit their width; hex().

local A = 0x1000

describe("numbers", function()
  -- Every accepted spelling of an address reaches the same place.
  it("accepts every spelling of an address", function()
    mem.write32(A, 0xdeadbeef)
    assert.equal(0xdeadbeef, mem.read32(A), "integer address")
    assert.equal(0xdeadbeef, mem.read32(4096.0), "integral float address")
    assert.equal(0xdeadbeef, mem.read32("0x1000"), "hex string address")
    assert.equal(0xdeadbeef, mem.read32("4096"), "decimal string address")
    assert.equal(0xdeadbeef, mem.read32(" 0x1000 "), "blanks around a numeric string")
  end)

  -- Numeric strings convert exactly as Lua's tonumber does, on every path:
  -- the fast paths (mem.read8, w:read8), the checked ones (mem.extract,
  -- hex) and descriptor fields (NBSP and hex floats once differed).
  it("converts numeric strings as tonumber does, on every path", function()
    local win = mem.map(0, 0x2000)
    for _, s in ipairs { "0x1p12", "0X1P+12", " 4096\t", "4096.0", "0x1000", "4.096e3", "+4096",
                         "\u{a0}4096", "4096\u{a0}", "4096\0", "4096 x", "inf", "nan", "0x1p-2",
                         "1e3000", "", "0x", "40_96" } do
      local n = tonumber(s)
      local want = n and math.tointeger(n)
      local label = ("%q"):format(s)
      for path, f in pairs {
        ["mem.read8"] = function() return mem.read8(s) end,
        ["w:read8"] = function() return win:read8(s) end,
        ["mem.extract"] = function() return mem.extract(s).vaddr end,
        ["hex"] = function() return hex(s) end,
        ["sim.claim base"] = function()
          local ok, e = pcall(sim.claim, { base = s, len = 0x1000, owner = "num" })
          return (ok or type(e) == "table") or error(e)
        end,
      } do
        local ok, v = pcall(f)
        if want then
          assert.truthy(ok, path .. " takes " .. label .. ": " .. tostring(v))
          local expect = ({ ["mem.read8"] = mem.read8(want), ["w:read8"] = mem.read8(want),
                            ["mem.extract"] = want, ["hex"] = hex(want), ["sim.claim base"] = true })[path]
          assert.equal(expect, v, path .. " of " .. label)
        else
          assert.truthy(not ok and type(v) == "string" and v:find("bad argument #1", 1, true),
            path .. " refuses " .. label .. " as Lua does: " .. tostring(v))
        end
      end
    end
  end)

  -- Values: signed or unsigned, same bits.
  it("takes signed and unsigned values as the same bits", function()
    mem.write8(A, -1);      assert.equal(0xff, mem.read8(A), "write8 -1")
    mem.write8(A, 0xff);    assert.equal(0xff, mem.read8(A), "write8 0xff")
    mem.write8(A, -128);    assert.equal(0x80, mem.read8(A), "write8 -128")
    mem.write16(A, -1);     assert.equal(0xffff, mem.read16(A), "write16 -1")
    mem.write32(A, -1);     assert.equal(0xffffffff, mem.read32(A), "write32 -1 reads back non-negative")
    mem.write32(A, 0x80000000); assert.equal(0x80000000, mem.read32(A), "read32 is non-negative")
    mem.write64(A, -1);     assert.equal(-1, mem.read64(A), "64-bit bit pattern preserved")
    mem.write64(A, 0x8000000000000000); assert.equal(math.mininteger, mem.read64(A), "top bit of 64")
    mem.write64(A, "0x0123456789abcdef"); assert.equal(0x0123456789abcdef, mem.read64(A), "string value")
    mem.write16(A, 4660.0); assert.equal(0x1234, mem.read16(A), "float value")
    assert.truthy(mem.read8(A) >= 0 and mem.read16(A) >= 0, "narrow reads are non-negative")
  end)

  -- Too wide for the width: EINVAL, nothing written.
  it("refuses a value too wide for the width, changing nothing", function()
    mem.write32(A, 0x11223344)
    local e = expect_error(mem.write8, "EINVAL", A, 0x100)
    assert.equal("mem.write8", e and e.op, "op of a too-wide value")
    assert.equal(A, e and e.addr, "addr of a too-wide value")
    expect_error(mem.write8, "EINVAL", A, -129)
    expect_error(mem.write16, "EINVAL", A, 0x10000)
    expect_error(mem.write32, "EINVAL", A, 0x100000000)
    assert.equal(0x11223344, mem.read32(A), "a refused write changes nothing")
  end)

  -- Alignment: 16/32/64 need it, 8 never does.
  it("needs alignment for 16, 32 and 64 bits, never for 8", function()
    mem.write32(A, 0x11223344)
    expect_error(mem.read16, "EINVAL", A + 1)
    expect_error(mem.read32, "EINVAL", A + 2)
    expect_error(mem.read64, "EINVAL", A + 4)
    expect_error(mem.write32, "EINVAL", A + 1, 0)
    assert.equal(0x33, mem.read8(A + 1), "byte reads at any address")
  end)

  -- Negative integers are high addresses, not errors of their own: above
  -- the pc board's 39-bit physical width that is EFAULT.
  it("takes negative integers as high addresses", function()
    local e2 = expect_error(mem.read32, "EFAULT", -4096)
    assert.equal(-4096, e2 and e2.addr, "e.addr keeps the bit pattern")
    expect_error(mem.read8, "EFAULT", 1 << 39)
    assert.equal(0xff, mem.read8((1 << 39) - 1), "the top byte of the 39-bit space is a hole")
  end)

  -- Argument errors, in Lua's words, as plain strings.
  it("words argument errors as Lua does, as plain strings", function()
    assert.error_matches(function() return mem.read32(1.5) end, "bad argument #1 to 'mem.read32' (address expected, got 1.5)", 1, true)
    assert.error_matches(function() return mem.read32(nil) end, "bad argument #1 to 'mem.read32' (address expected, got nil)", 1, true)
    assert.error_matches(function() return mem.read32() end, "bad argument #1 to 'mem.read32' (address expected, got nil)", 1, true)
    assert.error_matches(function() return mem.read32({}) end, "bad argument #1 to 'mem.read32' (address expected, got table)", 1, true)
    assert.error_matches(function() return mem.read32("abc") end, "bad argument #1 to 'mem.read32' (address expected, got string 'abc')", 1, true)
    assert.error_matches(function() return mem.read32(true) end, "bad argument #1 to 'mem.read32' (address expected, got boolean)", 1, true)
    assert.error_matches(function() return mem.read32(1e300) end, "bad argument #1 to 'mem.read32' (address expected, got 1e+300)", 1, true)
    assert.error_matches(function() return mem.write32(A, 0.5) end, "bad argument #2 to 'mem.write32' (value expected, got 0.5)", 1, true)
    assert.error_matches(function() return mem.write8(A, "0x") end, "bad argument #2 to 'mem.write8' (value expected, got string '0x')", 1, true)
    -- Called from Lua code, the message starts with the caller's position.
    local ok, msg = pcall(function() return mem.read32(1.5) end)
    assert.truthy(not ok and msg:match("^tests/lua/numbers_test%.lua:%d+: bad argument #1 to 'mem%.read32'"), "argument errors carry file:line: " .. tostring(msg))
  end)

  it("formats with hex()", function()
    assert.equal("0xff", hex(255))
    assert.equal("0x0", hex(0))
    assert.equal("0x000000ff", hex(255, 32))
    assert.equal("0x1234", hex(0x1234, 8), "a wider value is not cut")
    assert.equal("0xffffffffffffffff", hex(-1), "unsigned")
    assert.equal("0xfffffffffffff000", hex(-4096, 64))
    assert.equal("0x0010", hex("0x10", 16))
    assert.equal("0x1", hex(1, 4))
    assert.error_matches(function() return hex(1.5) end, "bad argument #1 to 'hex' (integer expected, got 1.5)", 1, true)
    assert.error_matches(function() return hex(1, 65) end, "bad argument #2 to 'hex'", 1, true)
    assert.error_matches(function() return hex(1, 0) end, "bad argument #2 to 'hex'", 1, true)
  end)
end)
