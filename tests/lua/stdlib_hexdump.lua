-- memlua.hexdump: hexdump -C and xxd formats, grouping, spaces.
local hd = require "memlua.hexdump"

eq(hd.dump(0xFFFF0, 16),
  "000ffff0  ea 00 00 00 00 31 31 2f  32 36 2f 32 36 00 00 00  |.....11/26/26...|\n00100000\n")
-- repeated lines squeeze to '*', as hexdump does
eq(hd.dump(0xC0000, 64),
  "000c0000  55 aa 40 00 00 00 00 00  00 00 00 00 00 00 00 00  |U.@.............|\n" ..
  "000c0010  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n000c0040\n")
eq(hd.string("hello world, this is"),
  "00000000  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|\n" ..
  "00000010  73 20 69 73                                       |s is|\n00000014\n")
eq(hd.string(""), "")
eq(hd.string("hello world, this is", {style = "xxd", group = 2}),
  "00000000: 6865 6c6c 6f20 776f 726c 642c 2074 6869  hello world, thi\n" ..
  "00000010: 7320 6973                                s is\n")
-- group 4 on a device: 32-bit accesses, little-endian words
mem.write32(0xFE003000, 0x11223344)
eq(hd.dump(0xFE003000, 8, {group = 4}),
  "fe003000  11223344 00000000                     |D3\".....|\n" .. "fe003008\n")
-- group 8 on the timer: FREQ is 32-bit only, so the 64-bit access fails
raises("EINVAL", hd.dump, 0xFE001008, 8, {group = 8})
-- the kernel space, with 16-digit addresses
local v = kmem.symbol("version")
check(hd.dump(v, 16, {space = "kernel"}):find("^ffffffff%x+  46 72 65 65 42 53 44"), "kernel dump")
-- bad options
argerr("'group'", hd.dump, 0, 16, {group = 3})
argerr("'width'", hd.dump, 0, 16, {group = 4, width = 6})
argerr("'style'", hd.dump, 0, 16, {style = "od"})
argerr("'space'", hd.dump, 0, 16, {space = "io"})
raises("EFAULT", hd.dump, 1 << 40, 16)
-- A misspelt option is refused, naming it and the known ones.
argerr("bad option 'grup' to 'hexdump' (unknown; expected addr, group, space, squeeze, style, width)", hd.dump, 0, 16, {grup = 4})
argerr("bad option 'sqeeze'", hd.string, "abc", {sqeeze = false})

-- A short last line in xxd style pads a partial group to its full width,
-- so the text column stays where xxd puts it (xxd -g4 of 21 bytes).
eq(hd.string(("hello world, this is x"):sub(1, 21), {style = "xxd", group = 4}),
  "00000000: 68656c6c 6f20776f 726c642c 20746869  hello world, thi\n" ..
  "00000010: 73206973 20                          s is \n")
-- Addresses print as hexdump and xxd print them: at least 8 digits.
eq(hd.string("ab", {addr = 0x100000000}), "100000000  61 62" .. (" "):rep(43) .. "  |ab|\n100000002\n")
-- Squeezing spans the chunks memory is read in (64 KiB): 192 KiB of zeros.
eq(hd.dump(0x2000000, 3 * 65536), "02000000" .. "  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  |................|\n*\n02030000\n")
-- print streams what dump returns.
local printed = {}
local real_write = io.write
io.write = function(s) printed[#printed + 1] = s end
hd.print(0xFFFF0, 16)
io.write = real_write
eq(table.concat(printed), hd.dump(0xFFFF0, 16))

-- A range past the end of memory fails at once with the backend's error,
-- not after reading everything before the end (issue 12); a wrapping one
-- is EINVAL. Counting reads stops a dump that was not stopped.
do
  local real_read, real_read64, reads = mem.read, mem.read64, 0
  local function counted(f)
    return function(...)
      reads = reads + 1
      if reads > 100 then error("the dump read on instead of checking the range first") end
      return f(...)
    end
  end
  mem.read, mem.read64 = counted(real_read), counted(real_read64)
  local e = raises("EFAULT", hd.dump, 0, 1 << 62)
  eq(e and e.addr, (1 << 62) - 1, "the last byte was probed")
  local e8 = raises("EFAULT", hd.print, 0x1000, 1 << 62, {group = 8})
  eq(e8 and e8.addr, 0x1000 + (1 << 62) - 8, "the last word, with the group's width")
  raises("EFAULT", hd.read, 0, 1 << 40, nil, 8)
  raises("EINVAL", hd.dump, -0x10000, 0x20000)
  mem.read, mem.read64 = real_read, real_read64
  -- A range that is there reads as before.
  eq(#hd.read(0x2000000, 2 * 65536 + 8, nil, 8), 2 * 65536 + 8)
end
