-- memlua.hexdump: hexdump -C and xxd formats, grouping, spaces.
local hd = require "memlua.hexdump"

describe("memlua.hexdump", function()
  it("dumps memory as hexdump -C does", function()
    assert.equal("000ffff0  ea 00 00 00 00 31 31 2f  32 36 2f 32 36 00 00 00  |.....11/26/26...|\n00100000\n",
      hd.dump(0xFFFF0, 16))
  end)

  it("squeezes repeated lines to '*', as hexdump does", function()
    assert.equal("000c0000  55 aa 40 00 00 00 00 00  00 00 00 00 00 00 00 00  |U.@.............|\n" ..
      "000c0010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n000c0040\n",
      hd.dump(0xC0000, 64))
  end)

  -- Squeezing spans the chunks memory is read in (64 KiB): 192 KiB of zeros.
  it("squeezes across the chunks it reads in", function()
    assert.equal("02000000" .. "  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n02030000\n",
      hd.dump(0x2000000, 3 * 65536))
  end)

  it("dumps strings, in xxd's style too", function()
    assert.equal("00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|\n" ..
      "00000010  73 20 69 73                                       |s is|\n00000014\n", hd.string("hello world, this is"))
    assert.equal("", hd.string(""))
    assert.equal("00000000: 6865 6c6c 6f20 776f 726c 642c 2074 6869  hello world, thi\n" ..
      "00000010: 7320 6973                                s is\n", hd.string("hello world, this is", { style = "xxd", group = 2 }))
  end)

  -- A short last line in xxd style pads a partial group to its full width,
  -- so the text column stays where xxd puts it (xxd -g4 of 21 bytes).
  it("pads a short last group in xxd's style", function()
    assert.equal("00000000: 68656c6c 6f20776f 726c642c 20746869  hello world, thi\n" ..
      "00000010: 73206973 20                          s is \n", hd.string(("hello world, this is x"):sub(1, 21), { style = "xxd", group = 4 }))
  end)

  it("prints addresses with at least 8 digits", function()
    assert.equal("100000000  61 62" .. (" "):rep(43) .. "  |ab|\n100000002\n", hd.string("ab", { addr = 0x100000000 }))
  end)

  it("reads a device in 32-bit words with group 4", function()
    mem.write32(0xFE003000, 0x11223344)
    assert.equal("fe003000  11223344 00000000                     |D3\".....|\n" .. "fe003008\n",
      hd.dump(0xFE003000, 8, { group = 4 }))
    -- The timer's FREQ is 32-bit only, so a 64-bit access fails.
    expect_error(hd.dump, "EINVAL", 0xFE001008, 8, { group = 8 })
  end)

  it("dumps the kernel space with 16-digit addresses", function()
    local v = kmem.symbol("version")
    assert.matches("^ffffffff%x+  46 72 65 65 42 53 44", hd.dump(v, 16, { space = "kernel" }))
  end)

  it("refuses bad options, naming them", function()
    assert.error_matches(function() return hd.dump(0, 16, { group = 3 }) end, "'group'", 1, true)
    assert.error_matches(function() return hd.dump(0, 16, { group = 4, width = 6 }) end, "'width'", 1, true)
    assert.error_matches(function() return hd.dump(0, 16, { style = "od" }) end, "'style'", 1, true)
    assert.error_matches(function() return hd.dump(0, 16, { space = "io" }) end, "'space'", 1, true)
    expect_error(hd.dump, "EFAULT", 1 << 40, 16)
    assert.error_matches(function() return hd.dump(0, 16, { grup = 4 }) end,
      "bad option 'grup' to 'hexdump' (unknown; expected addr, group, space, squeeze, style, width)", 1, true)
    assert.error_matches(function() return hd.string("abc", { sqeeze = false }) end, "bad option 'sqeeze'", 1, true)
  end)

  it("prints what dump returns", function()
    local printed = {}
    local real_write = io.write
    io.write = function(s) printed[#printed + 1] = s end
    hd.print(0xFFFF0, 16)
    io.write = real_write
    assert.equal(hd.dump(0xFFFF0, 16), table.concat(printed))
  end)

  -- A range past the end of memory fails at once with the backend's error,
  -- not after reading everything before the end; a wrapping one is
  -- EINVAL. Counting reads stops a dump that was not stopped.
  it("checks a large range before reading it", function()
    local real_read, real_read64, reads = mem.read, mem.read64, 0
    local function counted(f)
      return function(...)
        reads = reads + 1
        if reads > 100 then error("the dump read on instead of checking the range first") end
        return f(...)
      end
    end
    mem.read, mem.read64 = counted(real_read), counted(real_read64)
    local ok, err = pcall(function()
      local e = expect_error(hd.dump, "EFAULT", 0, 1 << 62)
      assert.equal((1 << 62) - 1, e.addr, "the last byte was probed")
      local e8 = expect_error(hd.print, "EFAULT", 0x1000, 1 << 62, {group = 8})
      assert.equal(0x1000 + (1 << 62) - 8, e8.addr, "the last word, with the group's width")
      expect_error(hd.read, "EFAULT", 0, 1 << 40, nil, 8)
      expect_error(hd.dump, "EINVAL", -0x10000, 0x20000)
    end)
    mem.read, mem.read64 = real_read, real_read64
    if not ok then error(err, 0) end
    -- A range that is there reads as before.
    assert.equal(2 * 65536 + 8, #hd.read(0x2000000, 2 * 65536 + 8, nil, 8))
  end)
end)
