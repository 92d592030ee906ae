-- Numbers (docs/API.md): addresses and values are u64 bit patterns; integral
-- floats and numeric strings are accepted; anything else is an argument
-- error naming the argument; values must fit their width; hex().

local A = 0x1000

-- Every accepted spelling of an address reaches the same place.
mem.write32(A, 0xdeadbeef)
eq(mem.read32(A), 0xdeadbeef, "integer address")
eq(mem.read32(4096.0), 0xdeadbeef, "integral float address")
eq(mem.read32("0x1000"), 0xdeadbeef, "hex string address")
eq(mem.read32("4096"), 0xdeadbeef, "decimal string address")
eq(mem.read32(" 0x1000 "), 0xdeadbeef, "blanks around a numeric string")

-- Numeric strings convert exactly as Lua's tonumber does, on every path:
-- the fast paths (mem.read8, w:read8), the checked ones (mem.extract, hex)
-- and descriptor fields (issue 12: NBSP and hex floats differed).
do
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
        check(ok, path .. " takes " .. label .. ": " .. tostring(v))
        local expect = ({ ["mem.read8"] = mem.read8(want), ["w:read8"] = mem.read8(want),
                          ["mem.extract"] = want, ["hex"] = hex(want), ["sim.claim base"] = true })[path]
        eq(v, expect, path .. " of " .. label)
      else
        check(not ok and type(v) == "string" and v:find("bad argument #1", 1, true),
          path .. " refuses " .. label .. " as Lua does: " .. tostring(v))
      end
    end
  end
end

-- Values: signed or unsigned, same bits.
mem.write8(A, -1);      eq(mem.read8(A), 0xff, "write8 -1")
mem.write8(A, 0xff);    eq(mem.read8(A), 0xff, "write8 0xff")
mem.write8(A, -128);    eq(mem.read8(A), 0x80, "write8 -128")
mem.write16(A, -1);     eq(mem.read16(A), 0xffff, "write16 -1")
mem.write32(A, -1);     eq(mem.read32(A), 0xffffffff, "write32 -1 reads back non-negative")
mem.write32(A, 0x80000000); eq(mem.read32(A), 0x80000000, "read32 is non-negative")
mem.write64(A, -1);     eq(mem.read64(A), -1, "64-bit bit pattern preserved")
mem.write64(A, 0x8000000000000000); eq(mem.read64(A), math.mininteger, "top bit of 64")
mem.write64(A, "0x0123456789abcdef"); eq(mem.read64(A), 0x0123456789abcdef, "string value")
mem.write16(A, 4660.0); eq(mem.read16(A), 0x1234, "float value")
check(mem.read8(A) >= 0 and mem.read16(A) >= 0, "narrow reads are non-negative")

-- Too wide for the width: EINVAL, nothing written.
mem.write32(A, 0x11223344)
local e = raises("EINVAL", mem.write8, A, 0x100)
eq(e and e.op, "mem.write8", "op of a too-wide value")
eq(e and e.addr, A, "addr of a too-wide value")
raises("EINVAL", mem.write8, A, -129)
raises("EINVAL", mem.write16, A, 0x10000)
raises("EINVAL", mem.write32, A, 0x100000000)
eq(mem.read32(A), 0x11223344, "a refused write changes nothing")

-- Alignment: 16/32/64 need it, 8 never does.
raises("EINVAL", mem.read16, A + 1)
raises("EINVAL", mem.read32, A + 2)
raises("EINVAL", mem.read64, A + 4)
raises("EINVAL", mem.write32, A + 1, 0)
eq(mem.read8(A + 1), 0x33, "byte reads at any address")

-- Negative integers are high addresses, not errors of their own: above
-- the pc board's 39-bit physical width that is EFAULT.
local e2 = raises("EFAULT", mem.read32, -4096)
eq(e2 and e2.addr, -4096, "e.addr keeps the bit pattern")
raises("EFAULT", mem.read8, 1 << 39)
eq(mem.read8((1 << 39) - 1), 0xff, "the top byte of the 39-bit space is a hole")

-- Argument errors, in Lua's words, as plain strings.
argerr("bad argument #1 to 'mem.read32' (address expected, got 1.5)", mem.read32, 1.5)
argerr("bad argument #1 to 'mem.read32' (address expected, got nil)", mem.read32, nil)
argerr("bad argument #1 to 'mem.read32' (address expected, got nil)", mem.read32)
argerr("bad argument #1 to 'mem.read32' (address expected, got table)", mem.read32, {})
argerr("bad argument #1 to 'mem.read32' (address expected, got string 'abc')", mem.read32, "abc")
argerr("bad argument #1 to 'mem.read32' (address expected, got boolean)", mem.read32, true)
argerr("bad argument #1 to 'mem.read32' (address expected, got 1e+300)", mem.read32, 1e300)
argerr("bad argument #2 to 'mem.write32' (value expected, got 0.5)", mem.write32, A, 0.5)
argerr("bad argument #2 to 'mem.write8' (value expected, got string '0x')", mem.write8, A, "0x")
-- Called from Lua code, the message starts with the caller's position.
local ok, msg = pcall(function() return mem.read32(1.5) end)
check(not ok and msg:match("^tests/lua/numbers%.lua:%d+: bad argument #1 to 'mem%.read32'"),
  "argument errors carry file:line: " .. tostring(msg))

-- hex
eq(hex(255), "0xff")
eq(hex(0), "0x0")
eq(hex(255, 32), "0x000000ff")
eq(hex(0x1234, 8), "0x1234", "a wider value is not cut")
eq(hex(-1), "0xffffffffffffffff", "unsigned")
eq(hex(-4096, 64), "0xfffffffffffff000")
eq(hex("0x10", 16), "0x0010")
eq(hex(1, 4), "0x1")
argerr("bad argument #1 to 'hex' (integer expected, got 1.5)", hex, 1.5)
argerr("bad argument #2 to 'hex'", hex, 1, 65)
argerr("bad argument #2 to 'hex'", hex, 1, 0)
