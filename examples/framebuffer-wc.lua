-- framebuffer-wc: mark the VGA framebuffer write-combining with memrange,
-- fill it, restore the previous attribute.
local FB, LEN = 0xA0000, 0x20000

-- 1. Remember what covers the framebuffer now.
local before = {}
for _, d in ipairs(memrange.get()) do
  if d.flags & memrange.ACTIVE ~= 0 and d.base < FB + LEN and FB < d.base + d.len then
    before[#before + 1] = d
  end
end
print(("before: %d range(s), %s"):format(#before, memrange.names(before[1].flags)))

-- 2. Write-combining for the fill.
memrange.set { base = FB, len = LEN, flags = "write-combine", owner = "fbwc" }
for _, d in ipairs(memrange.get()) do
  if d.base == FB then assert(d.flags & memrange.WRITECOMBINE ~= 0, "not write-combining") end
end

-- 3. Fill with 64-bit stores through a window, then check a few pixels.
local w = mem.map(FB, LEN)
local PIX = 0x00ff00ff00ff00ff
for off = 0, LEN - 8, 8 do w:write64(off, PIX) end
assert(w:read64(0) == PIX and w:read64(LEN - 8) == PIX, "fill did not land")

-- 4. Restore the attribute each slot had.
for _, d in ipairs(before) do
  memrange.set { base = d.base, len = d.len, flags = d.flags & memrange.ATTRMASK, owner = d.owner }
end
for _, d in ipairs(memrange.get()) do
  if d.base == FB then assert(d.flags & memrange.UNCACHEABLE ~= 0, "attribute not restored") end
end
print("framebuffer-wc: OK")
