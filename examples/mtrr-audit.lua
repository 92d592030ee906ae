-- mtrr-audit: list the memory ranges, explain each (attributes, owner,
-- overlaps, what covers a given address) and flag conflicts.
local ADDRESS = tonumber(arg and arg[1]) or 0xFE000000

local ranges = memrange.get()
local active = {}
for i, d in ipairs(ranges) do
  if d.flags & memrange.ACTIVE ~= 0 then active[#active + 1] = { i = i, d = d } end
end
print(("%d descriptors, %d active"):format(#ranges, #active))

local function kind(d) return d.flags & memrange.ATTRMASK end
local function overlaps(a, b) return a.base < b.base + b.len and b.base < a.base + a.len end
-- x86 rules: UC wins any overlap; WT with WB is WT; anything else conflicts.
local function compatible(a, b)
  local ka, kb = kind(a), kind(b)
  if ka == kb then return true end
  if ka == memrange.UNCACHEABLE or kb == memrange.UNCACHEABLE then return true end
  local wt, wb = memrange.WRITETHROUGH, memrange.WRITEBACK
  return (ka == wt and kb == wb) or (ka == wb and kb == wt)
end

local conflicts = 0
for n, x in ipairs(active) do
  local d = x.d
  local fixed = d.flags & memrange.FIXBASE ~= 0
  if not fixed then
    print(("slot %2d 0x%x/0x%x owner %-7s %s"):format(x.i, d.base, d.len, d.owner ~= "" and d.owner or "-", memrange.names(d.flags)))
  end
  for m = n + 1, #active do
    local e = active[m].d
    -- Below 1 MiB the fixed MTRRs take precedence over variable ones:
    -- only variable ranges can conflict with each other.
    local either_fixed = fixed or e.flags & memrange.FIXBASE ~= 0
    if overlaps(d, e) and not either_fixed then
      local ok = compatible(d, e)
      if not ok then conflicts = conflicts + 1 end
      if not fixed or not ok then
        print(("  overlaps slot %d 0x%x/0x%x: %s"):format(active[m].i, e.base, e.len, ok and "allowed" or "CONFLICT"))
      end
    end
  end
end

local covering = {}
for _, x in ipairs(active) do
  local d = x.d
  if ADDRESS >= d.base and ADDRESS < d.base + d.len then covering[#covering + 1] = memrange.names(kind(d)) end
end
print(("0x%x is covered by: %s"):format(ADDRESS, #covering > 0 and table.concat(covering, ", ") or "nothing (default type)"))
print(("conflicts: %d"):format(conflicts))
assert(conflicts == 0, "conflicting memory ranges")
print("mtrr-audit: OK")
