-- memrange.scoped: what the function changed is given back, whatever way
-- it ends; nested scopes give back their own; results and arguments pass.
local function snap()
  local t = {}
  for i, d in ipairs(memrange.get()) do
    t[i] = ("%x/%x %x %s"):format(d.base, d.len, d.flags & ~memrange.FIRMWARE, d.owner)
  end
  return table.concat(t, "\n")
end
local function find(base)
  for _, d in ipairs(memrange.get()) do
    if d.base == base and d.flags & memrange.ACTIVE ~= 0 then return d end
  end
end

local before = snap()
local a, b, n = memrange.scoped(function(x, y, ...)
  memrange.set { base = 0xC0000000, len = 0x10000000, flags = "write-combine", owner = "fb" }
  return x + y, "two", select("#", ...)
end, 1, 2, nil, nil)
eq(a, 3) eq(b, "two") eq(n, 2)
eq(snap(), before, "after a return")

-- Nested: the inner scope gives back its own changes only.
memrange.scoped(function()
  memrange.set { base = 0xC0000000, len = 0x10000000, flags = "write-combine", owner = "outer" }
  local mid = snap()
  memrange.scoped(function()
    memrange.set { base = 0xC0000000, len = 0x10000000, flags = "uncacheable", owner = "inner" }
    memrange.remove { base = 0x0, len = 0x80000000 }
  end)
  eq(snap(), mid, "after the inner scope")
  eq(find(0xC0000000).owner, "outer")
end)
eq(snap(), before, "after the outer scope")

-- An error (an error table too) comes out unchanged, after the ranges.
local e = raises("EBUSY", memrange.scoped, function()
  memrange.set { base = 0xC0000000, len = 0x10000000, flags = "write-combine", owner = "fb" }
  memrange.set { base = 0xFE000000, len = 0x4000, flags = "write-combine" }  -- acpi's: busy
end)
eq(e and e.op, "memrange.set")
eq(snap(), before, "after an error")
local ok, msg = pcall(memrange.scoped, function() error("plain", 0) end)
eq(ok, false) eq(msg, "plain")

-- Ranges changed outside any scope stay; scopes change nothing else.
memrange.set { base = 0xC0000000, len = 0x10000000, flags = "write-combine", owner = "kept" }
memrange.scoped(function() end)
eq(find(0xC0000000).owner, "kept")
memrange.remove { base = 0xC0000000, len = 0x10000000 }
eq(snap(), before)

argerr("bad argument #1 to 'scoped' (function expected, got no value)", memrange.scoped)
argerr("bad argument #1 to 'scoped' (function expected, got number)", memrange.scoped, 3)
