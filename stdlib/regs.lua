-- memlua.regs: register maps. A device is described once (in Lua, or
-- loaded from a CMSIS-SVD file) and then read and written by name:
--
--   local regs = require "memlua.regs"
--   local uart = regs.device {
--     name = "uart0", base = 0xFE000000,
--     registers = {
--       { name = "THR", offset = 0, width = 8, access = "wo" },
--       { name = "LCR", offset = 3, width = 8, reset = 0, fields = {
--           { name = "WLS", lsb = 0, width = 2, enum = { ["5BITS"] = 0, ["8BITS"] = 3 } },
--           { name = "DLAB", lsb = 7 } } },
--       { name = "LSR", offset = 5, width = 8, access = "ro", fields = {
--           { name = "THRE", lsb = 5 } } },
--     } }
--   uart.LCR.DLAB = 1        -- read-modify-write of exactly the register's width
--   uart.LCR = 0x03          -- a whole-register write
--   print(uart.LCR.WLS)      -- a field read: 3
--   uart.LCR.WLS = "8BITS"   -- enumerated values by name
--   print(uart.LCR:format()) -- LCR = 0x03 (WLS=3 8BITS, DLAB=0)
--   io.write(uart:dump())    -- every readable register, decoded
--
-- Register `access`: "rw" (default), "ro", "wo" (field writes merge into
-- the last value written, or the reset value), "w1c" (write one to clear:
-- a field write writes only that field's bits, so other pending bits stay
-- set). Fields may narrow the access of their register; in a register with
-- w1c fields, a write to another field writes zeros to them. A register
-- with `read_effects = true` (reading it changes the device: a FIFO pop,
-- a clear-on-read status) is not read by `dump` unless asked.
--
-- A malformed map is refused with the element's path (device, register,
-- field, enum) and, for maps loaded from a file, the file and line of the
-- element; for maps given inline, the error points at the line of the call.

local M = {}

local ACCESS = { rw = true, ro = true, wo = true, w1c = true }
local WIDTHS = { [8] = true, [16] = true, [32] = true, [64] = true }

local function mask(width)
  if width == 64 then return -1 end
  return (1 << width) - 1
end

local function int(v)
  if math.type(v) == "integer" then return v end
  if type(v) == "number" then return math.tointeger(v) end
  if type(v) == "string" then
    local n = math.tointeger(tonumber(v))
    return n
  end
  return nil
end

-- Validation -----------------------------------------------------------

local MapError = {}
MapError.__index = MapError
MapError.__tostring = function(e) return e.text end

--- Raises a map error naming `path` (an array of element names).
local function bad(ctx, path, msg)
  error(setmetatable({ path = path, msg = msg, text = table.concat(path, ": ") .. ": " .. msg }, MapError))
end

local DEVICE_KEYS = { name = 1, base = 1, registers = 1, space = 1, width = 1, len = 1, description = 1 }
local REGISTER_KEYS = { name = 1, offset = 1, width = 1, access = 1, reset = 1, description = 1,
  fields = 1, read_effects = 1 }
local FIELD_KEYS = { name = 1, lsb = 1, bit = 1, bits = 1, width = 1, access = 1, enum = 1, description = 1 }
local ENUM_KEYS = { name = 1, value = 1, description = 1 }

--- Refuses keys a map element does not know: a misspelt `acess` or a
--- `msb` would otherwise be ignored silently.
local function check_keys(ctx, path, t, known)
  local unknown = {}
  for k in pairs(t) do
    if not known[k] then unknown[#unknown + 1] = type(k) == "string" and ("'" .. k .. "'") or ("[" .. tostring(k) .. "]") end
  end
  if #unknown == 0 then return end
  table.sort(unknown)
  local names = {}
  for k in pairs(known) do names[#names + 1] = k end
  table.sort(names)
  bad(ctx, path, ("unknown key%s %s; expected %s"):format(#unknown > 1 and "s" or "",
    table.concat(unknown, ", "), table.concat(names, ", ")))
end

local function check_fields(ctx, r, path, width, reg_access)
  local out, byname, used = {}, {}, 0
  for i, f in ipairs(r.fields or {}) do
    local fpath = { table.unpack(path) }
    if type(f) ~= "table" then bad(ctx, fpath, ("fields[%d] is a %s, expected a table"):format(i, type(f))) end
    local name = f.name
    fpath[#fpath + 1] = type(name) == "string" and ("field '" .. name .. "'") or ("fields[" .. i .. "]")
    if type(name) ~= "string" or name == "" then bad(ctx, fpath, "a field needs a name") end
    if byname[name] then bad(ctx, fpath, "a second field of this name") end
    check_keys(ctx, fpath, f, FIELD_KEYS)
    local lsb, fw
    if f.bits ~= nil then
      if type(f.bits) ~= "table" or #f.bits ~= 2 then bad(ctx, fpath, "bits must be {msb, lsb}") end
      local msb
      msb, lsb = int(f.bits[1]), int(f.bits[2])
      if not msb or not lsb or msb < lsb then bad(ctx, fpath, "bits must be {msb, lsb} with msb >= lsb") end
      fw = msb - lsb + 1
    else
      lsb = int(f.lsb or f.bit)
      fw = int(f.width or 1)
      if lsb == nil then bad(ctx, fpath, "a field needs lsb (or bit, or bits = {msb, lsb})") end
      if fw == nil then bad(ctx, fpath, "width must be an integer, got " .. tostring(f.width)) end
    end
    if lsb < 0 or fw < 1 or lsb + fw > width then
      bad(ctx, fpath, ("bits %d..%d do not fit the %d-bit register"):format(lsb, lsb + fw - 1, width))
    end
    local fm = mask(fw) << lsb
    if used & fm ~= 0 then bad(ctx, fpath, "overlaps another field of the register") end
    used = used | fm
    local access = f.access or reg_access
    if not ACCESS[access] then bad(ctx, fpath, ("access must be rw, ro, wo or w1c, got %s"):format(tostring(access))) end
    local enum, names = {}, {}
    if f.enum ~= nil then
      if type(f.enum) ~= "table" then bad(ctx, fpath, "enum must be a table") end
      local list = {}
      if #f.enum > 0 then
        for i, e in ipairs(f.enum) do
          if type(e) ~= "table" then
            local epath = { table.unpack(fpath) }
            epath[#epath + 1] = "enum[" .. i .. "]"
            bad(ctx, epath, ("expected a table {name =, value =}, got %s"):format(type(e)))
          end
          list[#list + 1] = e
        end
      else
        for k, v in pairs(f.enum) do list[#list + 1] = { name = k, value = v } end
        table.sort(list, function(a, b) return tostring(a.name) < tostring(b.name) end)
      end
      for _, e in ipairs(list) do
        local epath = { table.unpack(fpath) }
        epath[#epath + 1] = "enum '" .. tostring(e.name) .. "'"
        local v = int(e.value)
        if type(e.name) ~= "string" or e.name == "" then bad(ctx, epath, "an enumerated value needs a name") end
        check_keys(ctx, epath, e, ENUM_KEYS)
        if v == nil then bad(ctx, epath, "value must be an integer, got " .. tostring(e.value)) end
        if fw < 64 and (v < 0 or v > mask(fw)) then
          bad(ctx, epath, ("value %d does not fit the %d-bit field"):format(v, fw))
        end
        if names[e.name] then bad(ctx, epath, "a second enumerated value of this name") end
        names[e.name] = v
        if enum[v] == nil then enum[v] = e.name end
      end
    end
    local field = { name = name, lsb = lsb, width = fw, mask = fm, access = access,
      description = f.description, enum = enum, values = names }
    out[#out + 1] = field
    byname[name] = field
  end
  return out, byname
end

--- Checks a map and builds the device description: registers by name and
--- in offset order.
local function compile(map, ctx)
  if type(map) ~= "table" then bad(ctx, { "register map" }, "expected a table, got " .. type(map)) end
  local dname = map.name
  local path = { "device '" .. tostring(dname) .. "'" }
  if type(dname) ~= "string" or dname == "" then bad(ctx, { "device" }, "a device needs a name") end
  check_keys(ctx, path, map, DEVICE_KEYS)
  local base = int(map.base)
  if base == nil then bad(ctx, path, "base must be an address, got " .. tostring(map.base)) end
  local space = map.space or "phys"
  if space ~= "phys" and space ~= "kernel" then bad(ctx, path, 'space must be "phys" or "kernel"') end
  local dwidth = map.width or 32
  if type(map.registers) ~= "table" then bad(ctx, path, "registers must be a table") end
  local regs, byname = {}, {}
  for i, r in ipairs(map.registers) do
    local rpath = { path[1] }
    if type(r) ~= "table" then bad(ctx, { path[1], "registers[" .. i .. "]" }, "expected a table, got " .. type(r)) end
    rpath[2] = type(r.name) == "string" and ("register '" .. r.name .. "'") or ("registers[" .. i .. "]")
    if type(r.name) ~= "string" or r.name == "" then bad(ctx, rpath, "a register needs a name") end
    if byname[r.name] then bad(ctx, rpath, "a second register of this name") end
    check_keys(ctx, rpath, r, REGISTER_KEYS)
    local off = int(r.offset)
    if off == nil or off < 0 then bad(ctx, rpath, "offset must be a non-negative integer, got " .. tostring(r.offset)) end
    local width = int(r.width or dwidth)
    if not WIDTHS[width] then bad(ctx, rpath, "width must be 8, 16, 32 or 64, got " .. tostring(r.width)) end
    if off % (width // 8) ~= 0 then
      bad(ctx, rpath, ("offset 0x%x is not aligned to the %d-bit width"):format(off, width))
    end
    if map.len and off + width // 8 > map.len then
      bad(ctx, rpath, ("offset 0x%x runs past the device's 0x%x bytes"):format(off, map.len))
    end
    local access = r.access or "rw"
    if not ACCESS[access] then bad(ctx, rpath, "access must be rw, ro, wo or w1c, got " .. tostring(access)) end
    local reset = r.reset
    if reset ~= nil then
      reset = int(reset)
      if reset == nil then bad(ctx, rpath, "reset must be an integer, got " .. tostring(r.reset)) end
      if width < 64 and (reset < 0 or reset > mask(width)) then
        bad(ctx, rpath, ("reset 0x%x does not fit %d bits"):format(reset, width))
      end
    end
    local fields, fbyname = check_fields(ctx, r, rpath, width, access)
    local w1c = access == "w1c" and mask(width) or 0
    for _, f in ipairs(fields) do
      if f.access == "w1c" then w1c = w1c | f.mask end
    end
    local reg = { name = r.name, offset = off, width = width, access = access, reset = reset,
      description = r.description, fields = fields, field = fbyname, w1c = w1c,
      read_effects = r.read_effects and true or false }
    regs[#regs + 1] = reg
    byname[r.name] = reg
  end
  table.sort(regs, function(a, b)
    if a.offset ~= b.offset then return a.offset < b.offset end
    return a.name < b.name
  end)
  return { name = dname, base = base, space = space, description = map.description,
    registers = regs, register = byname }
end

--- Finds the line of an element in a map's source text by its names.
local function find_line(src, path)
  local pos = 1
  for _, p in ipairs(path) do
    local name = p:match("'(.*)'$")
    if name and name ~= "nil" then
      local q = name:gsub("%p", "%%%0")
      local at = src:find('["<>]' .. q .. '["<]', pos) or src:find(q, pos, true)
      if at then pos = at end
    end
  end
  if pos == 1 then return nil end
  local line = 1
  for _ in src:sub(1, pos):gmatch("\n") do line = line + 1 end
  return line
end

--- compile() with map errors turned into messages: `where` is the file
--- the map came from (its line is found), else the caller's position.
local function compile_or_raise(map, level, file, src)
  local ok, dev = pcall(compile, map)
  if ok then return dev end
  if getmetatable(dev) ~= MapError then error(dev, 0) end
  if file then
    local line = src and find_line(src, dev.path)
    error(("%s:%s: %s"):format(file, line or "?", dev.text), 0)
  end
  error("malformed register map: " .. dev.text, level + 1)
end

-- Access ---------------------------------------------------------------

local Device, Register = {}, {}

local function api(dev)
  return dev.space == "kernel" and kmem or mem
end

local function where(d, r) return ("register '%s' of '%s'"):format(r.name, d.name) end

local function reg_read(d, r)
  if r.access == "wo" then error(where(d, r) .. " is write-only", 3) end
  return api(d)["read" .. r.width](d.base + r.offset)
end

local function reg_write(d, r, v, level)
  if r.access == "ro" then error(where(d, r) .. " is read-only", level + 1) end
  local n = int(v)
  if n == nil then error(("%s: value expected, got %s"):format(where(d, r), tostring(v)), level + 1) end
  if r.width < 64 and (n < -(1 << (r.width - 1)) or n > mask(r.width)) then
    error(("%s: 0x%x does not fit %d bits"):format(where(d, r), n, r.width), level + 1)
  end
  n = n & mask(r.width)
  api(d)["write" .. r.width](d.base + r.offset, n)
  d._shadow[r.name] = n
end

local function field_value(d, r, f, v, level)
  if type(v) == "string" and f.values[v] ~= nil then return f.values[v] end
  local n = int(v)
  if type(v) == "boolean" then n = v and 1 or 0 end
  if n == nil then
    local names = {}
    for k in pairs(f.values) do names[#names + 1] = k end
    table.sort(names)
    error(("field '%s' of %s: %s is not a value%s"):format(f.name, where(d, r), tostring(v),
      #names > 0 and (" (one of " .. table.concat(names, ", ") .. ")") or ""), level + 1)
  end
  if f.width < 64 and (n < 0 or n > mask(f.width)) then
    error(("field '%s' of %s: %d does not fit %d bit%s"):format(f.name, where(d, r), n, f.width,
      f.width == 1 and "" or "s"), level + 1)
  end
  return n
end

--- A field write: read-modify-write of the whole register at its width.
local function field_write(d, r, f, v, level)
  if f.access == "ro" or r.access == "ro" then
    error(("field '%s' of %s is read-only"):format(f.name, where(d, r)), level + 1)
  end
  local n = field_value(d, r, f, v, level + 1) << f.lsb
  local new
  if r.access == "w1c" or f.access == "w1c" then
    new = n & f.mask                       -- only this field's ones
  else
    local cur
    if r.access == "wo" then cur = d._shadow[r.name] or r.reset or 0
    else cur = api(d)["read" .. r.width](d.base + r.offset) end
    new = ((cur & ~r.w1c) & ~f.mask) | n   -- never clear other w1c bits
  end
  reg_write(d, r, new, level + 1)
end

--- A register's value split into its fields.
--- A register value decoded: {name=, value=, fields={{name=, lsb=, width=,
--- value=, enum=}...}, field={NAME=value}}, and NAME=value beside them
--- for every field whose name is not one of those four keys.
local RESERVED = { name = true, value = true, fields = true, field = true }
local function decode(r, v)
  local out = { name = r.name, value = v, fields = {}, field = {} }
  for _, f in ipairs(r.fields) do
    local fv = (v >> f.lsb) & mask(f.width)
    out.fields[#out.fields + 1] = { name = f.name, lsb = f.lsb, width = f.width, value = fv, enum = f.enum[fv] }
    out.field[f.name] = fv
    if not RESERVED[f.name] then out[f.name] = fv end
  end
  return out
end

local function format(r, v)
  local hexw = r.width // 4
  local s = ("%s = 0x%0" .. hexw .. "x"):format(r.name, v)
  if #r.fields == 0 then return s end
  local parts = {}
  for _, f in ipairs(decode(r, v).fields) do
    parts[#parts + 1] = f.enum and ("%s=%d %s"):format(f.name, f.value, f.enum) or ("%s=%d"):format(f.name, f.value)
  end
  return s .. " (" .. table.concat(parts, ", ") .. ")"
end

-- Register objects: fields by name, then methods.
local RegMethods = {}
function RegMethods.read(self) return reg_read(self._dev, self._reg) end
function RegMethods.write(self, v) reg_write(self._dev, self._reg, v, 2) end
function RegMethods.decode(self, v) return decode(self._reg, v or reg_read(self._dev, self._reg)) end
function RegMethods.format(self, v) return format(self._reg, v or reg_read(self._dev, self._reg)) end
--- Several fields in one read-modify-write: r:set{WLS = 3, DLAB = 1}.
function RegMethods.set(self, t)
  local d, r = self._dev, self._reg
  local cur = (r.access == "wo") and (d._shadow[r.name] or r.reset or 0)
    or (r.access == "w1c" and 0) or reg_read(d, r)
  cur = cur & ~r.w1c
  for k, v in pairs(t) do
    local f = r.field[k]
    if not f then error(("no field '%s' in %s"):format(tostring(k), where(d, r)), 2) end
    if f.access == "ro" then error(("field '%s' of %s is read-only"):format(f.name, where(d, r)), 2) end
    cur = (cur & ~f.mask) | (field_value(d, r, f, v, 2) << f.lsb)
  end
  reg_write(d, r, cur, 2)
end
function RegMethods.info(self) return self._reg end

Register.__index = function(self, k)
  local r = rawget(self, "_reg")
  local f = r.field[k]
  if f then
    if f.access == "wo" then error(("field '%s' of %s is write-only"):format(k, where(self._dev, r)), 2) end
    return (reg_read(self._dev, r) >> f.lsb) & mask(f.width)
  end
  local m = RegMethods[k]
  if m then return m end
  error(("no field '%s' in %s"):format(tostring(k), where(self._dev, r)), 2)
end
Register.__newindex = function(self, k, v)
  local r = rawget(self, "_reg")
  local f = r.field[k]
  if not f then error(("no field '%s' in %s"):format(tostring(k), where(self._dev, r)), 2) end
  field_write(self._dev, r, f, v, 2)
end
Register.__tostring = function(self) return format(self._reg, reg_read(self._dev, self._reg)) end
Register.__call = function(self) return reg_read(self._dev, self._reg) end

-- Device objects: registers by name, then methods.
local make -- (desc, opts) -> device object; defined below
local DevMethods = {}
function DevMethods.reg(self, name)
  local r = self._desc.register[name]
  if not r then error(("no register '%s' in '%s'"):format(tostring(name), self._desc.name), 2) end
  local obj = self._objs[name]
  if not obj then
    obj = setmetatable({ _dev = self._state, _reg = r }, Register)
    self._objs[name] = obj
  end
  return obj
end
function DevMethods.read(self, name) return DevMethods.reg(self, name):read() end
function DevMethods.write(self, name, v) reg_write(self._state, self._desc.register[name] or DevMethods.reg(self, name)._reg, v, 2) end
function DevMethods.decode(self, name, v) return DevMethods.reg(self, name):decode(v) end
function DevMethods.registers(self) return self._desc.registers end
function DevMethods.describe(self) return self._desc end
--- The same register block at another base address (another instance of
--- the peripheral, or where a BAR put it); `space` may change too.
function DevMethods.rebase(self, base, space)
  local desc = {}
  for k, v in pairs(self._desc) do desc[k] = v end
  return make(desc, { base = base, space = space })
end
--- Every register decoded, one per line; write-only registers and those
--- whose read has effects are listed without a value unless opts.all.
function DevMethods.dump(self, opts)
  opts = opts or {}
  local d = self._desc
  local lines = { ("%s at 0x%x (%s)"):format(d.name, d.base, d.space) }
  local namew = 4
  for _, r in ipairs(d.registers) do namew = math.max(namew, #r.name) end
  for _, r in ipairs(d.registers) do
    local head = ("  +0x%03x %-" .. namew .. "s %-3s %2d "):format(r.offset, r.name, r.access, r.width)
    if r.access == "wo" then
      lines[#lines + 1] = head .. "(write-only)"
    elseif r.read_effects and not opts.all then
      lines[#lines + 1] = head .. "(not read: reading has effects)"
    else
      local ok, v = pcall(reg_read, self._state, r)
      if ok then
        lines[#lines + 1] = head .. format(r, v):sub(#r.name + 4)
      else
        lines[#lines + 1] = head .. "(" .. tostring(v) .. ")"
      end
    end
  end
  return table.concat(lines, "\n") .. "\n"
end
--- The registers' values as a table {NAME = {value=, fields={...}}}.
function DevMethods.values(self, opts)
  opts = opts or {}
  local out = {}
  for _, r in ipairs(self._desc.registers) do
    if r.access ~= "wo" and (opts.all or not r.read_effects) then
      local ok, v = pcall(reg_read, self._state, r)
      if ok then out[r.name] = decode(r, v) else out[r.name] = { error = tostring(v) } end
    end
  end
  return out
end

Device.__index = function(self, k)
  if self._desc.register[k] then return DevMethods.reg(self, k) end
  local m = DevMethods[k]
  if m then return m end
  if k == "name" or k == "base" or k == "space" then return self._desc[k] end
  error(("no register '%s' in '%s'"):format(tostring(k), self._desc.name), 2)
end
Device.__newindex = function(self, k, v)
  local r = self._desc.register[k]
  if not r then error(("no register '%s' in '%s'"):format(tostring(k), self._desc.name), 2) end
  reg_write(self._state, r, v, 2)
end
Device.__tostring = function(self) return ("regs.device '%s' at 0x%x"):format(self._desc.name, self._desc.base) end

function make(desc, opts)
  require("memlua.options").check(opts, { "base", "space" }, "regs.device", 3)
  opts = opts or {}
  if opts.base then desc.base = int(opts.base) or error("bad option 'base' (address expected)", 3) end
  if opts.space then desc.space = opts.space end
  local state = { name = desc.name, base = desc.base, space = desc.space, _shadow = {} }
  return setmetatable({ _desc = desc, _state = state, _objs = {} }, Device)
end

--- A device object from a map table (see the top of this file).
function M.device(map, opts)
  return make(compile_or_raise(map, 2), opts)
end

--- Checks a map without touching memory: the compiled description, or
--- raises the map error.
function M.check(map)
  return compile_or_raise(map, 2)
end

--- Loads a map file: Lua returning one device map, or a table of them
--- ({devices = {...}} or an array). Returns a table of device objects by
--- name (and the first one second).
function M.load(path)
  local f, err = io.open(path, "rb")
  if not f then error("cannot open " .. path .. ": " .. tostring(err), 2) end
  local src = f:read("a")
  f:close()
  if src:match("^%s*<%?xml") or src:match("^%s*<device") then return M.svd(path) end
  local chunk, lerr = load(src, "@" .. path, "t", setmetatable({}, { __index = _G }))
  if not chunk then error(lerr, 0) end
  local ok, t = pcall(chunk)
  if not ok then error(t, 0) end
  local maps = t
  if type(t) == "table" and t.registers then maps = { t } elseif type(t) == "table" and t.devices then maps = t.devices end
  if type(maps) ~= "table" then error(path .. ": a map file must return a device map or a list of them", 2) end
  local out, first = {}, nil
  for _, m in ipairs(maps) do
    local dev = make(compile_or_raise(m, 2, path, src))
    out[dev.name] = dev
    first = first or dev
  end
  return out, first
end

--- Device maps from a CMSIS-SVD file (or its text with `opts.text`): one
--- device object per peripheral, by name. `derivedFrom` and arrays are
--- resolved; an error names the file, the element and its line.
function M.svd(path, opts)
  opts = opts or {}
  local svd = require "memlua.svd"
  local dev, err
  local src = opts.text
  if src then dev, err = svd.parse(src, path or "svd")
  else
    dev, err = svd.load(path)
    local f = io.open(path, "rb")
    if f then src = f:read("a"); f:close() end
  end
  if not dev then error(err, 0) end
  local out = {}
  for _, p in ipairs(dev.peripherals) do
    local map = { name = p.name, base = p.base, description = p.description, registers = p.registers }
    out[p.name] = make(compile_or_raise(map, 2, path or "svd", src))
  end
  return out, dev
end

M.mask = mask
M.decode = function(reg_desc, v) return decode(reg_desc, v) end
M.format = function(reg_desc, v) return format(reg_desc, v) end
M.dump = function(dev, opts) return DevMethods.dump(dev, opts) end

return M
