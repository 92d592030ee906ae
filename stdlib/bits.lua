-- memlua.bits: bit-field helpers for 64-bit register values.
--
-- Fields are named by their lowest bit and width (`lsb`, `width`), or by
-- `msb:lsb` as datasheets write them (`bits.field(v, 7, 4)`). Values are Lua
-- integers read as unsigned 64-bit patterns; a field value that does not fit
-- its width is an error, never silently cut.

local M = {}

local function check_int(v, name, fname, level)
  if math.type(v) ~= "integer" then
    local n = math.tointeger(v)
    if n == nil then
      error(("bad argument '%s' to 'bits.%s' (integer expected, got %s)"):format(
        name, fname, type(v) == "number" and tostring(v) or type(v)), level + 1)
    end
    return n
  end
  return v
end

local function check_field(lsb, width, fname, level)
  lsb = check_int(lsb, "lsb", fname, level + 1)
  width = check_int(width == nil and 1 or width, "width", fname, level + 1)
  if lsb < 0 or lsb > 63 then
    error(("bad argument 'lsb' to 'bits.%s' (0..63 expected, got %d)"):format(fname, lsb), level + 1)
  end
  if width < 1 or lsb + width > 64 then
    error(("bad argument 'width' to 'bits.%s' (1..%d expected for lsb %d, got %d)"):format(
      fname, 64 - lsb, lsb, width), level + 1)
  end
  return lsb, width
end

--- The mask of `width` low bits (`width` 64 gives all ones, -1).
function M.mask(width)
  width = check_int(width, "width", "mask", 2)
  if width < 0 or width > 64 then
    error(("bad argument 'width' to 'bits.mask' (0..64 expected, got %d)"):format(width), 2)
  end
  if width == 64 then return -1 end
  return (1 << width) - 1
end

--- The mask of a field in place: `bits.fieldmask(4, 2)` is 0x30.
function M.fieldmask(lsb, width)
  lsb, width = check_field(lsb, width, "fieldmask", 2)
  return M.mask(width) << lsb
end

--- The field's value: `(v >> lsb) & mask(width)`.
function M.extract(v, lsb, width)
  v = check_int(v, "value", "extract", 2)
  lsb, width = check_field(lsb, width, "extract", 2)
  return (v >> lsb) & M.mask(width)
end

--- `v` with the field replaced by `field` (which must fit in `width` bits).
function M.insert(v, field, lsb, width)
  v = check_int(v, "value", "insert", 2)
  field = check_int(field, "field", "insert", 2)
  lsb, width = check_field(lsb, width, "insert", 2)
  local m = M.mask(width)
  if width < 64 and (field < 0 or field > m) then
    error(("bad argument 'field' to 'bits.insert' (value 0x%x does not fit in %d bit%s)"):format(
      field, width, width == 1 and "" or "s"), 2)
  end
  return (v & ~(m << lsb)) | ((field & m) << lsb)
end

--- Datasheet style: the field `msb:lsb` of `v`.
function M.field(v, msb, lsb)
  msb = check_int(msb, "msb", "field", 2)
  lsb = check_int(lsb, "lsb", "field", 2)
  if msb < lsb then
    error(("bad argument 'msb' to 'bits.field' (msb %d below lsb %d)"):format(msb, lsb), 2)
  end
  return M.extract(v, lsb, msb - lsb + 1)
end

--- Whether bit `n` is set.
function M.test(v, n)
  v = check_int(v, "value", "test", 2)
  n = check_field(n, 1, "test", 2)
  return (v >> n) & 1 == 1
end

--- `v` with bit `n` set / cleared / flipped.
function M.set(v, n) v = check_int(v, "value", "set", 2); n = check_field(n, 1, "set", 2); return v | (1 << n) end
function M.clear(v, n) v = check_int(v, "value", "clear", 2); n = check_field(n, 1, "clear", 2); return v & ~(1 << n) end
function M.flip(v, n) v = check_int(v, "value", "flip", 2); n = check_field(n, 1, "flip", 2); return v ~ (1 << n) end

--- The number of set bits.
function M.popcount(v)
  v = check_int(v, "value", "popcount", 2)
  local n = 0
  while v ~= 0 do v = v & (v - 1); n = n + 1 end
  return n
end

--- The set bits' positions, lowest first: `bits.list(0x11)` is {0, 4}.
function M.list(v)
  v = check_int(v, "value", "list", 2)
  local out = {}
  for i = 0, 63 do
    if (v >> i) & 1 == 1 then out[#out + 1] = i end
  end
  return out
end

return M
