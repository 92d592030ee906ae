-- memlua.hexdump: `hexdump -C` and xxd style dumps of physical or kernel
-- memory, or of any string of bytes.
--
--   local hd = require "memlua.hexdump"
--   print(hd.dump(0xF0000, 64))                      -- hexdump -C of physical memory
--   print(hd.dump(0xFE003000, 32, {group = 4}))      -- 32-bit words, each one 32-bit access
--   print(hd.dump(kmem.symbol("version"), 48, {space = "kernel", style = "xxd"}))
--   print(hd.string("hello", {addr = 0x1000}))
--
-- Options: `space` ("phys" default, or "kernel"), `group` (1, 2, 4 or 8
-- bytes per column; with more than 1, style "C" shows little-endian words,
-- style "xxd" the bytes in memory order as `xxd -g N` does; either way
-- memory is read with accesses of that width, so device registers dump
-- correctly), `width` (bytes per line, default 16, a multiple of group),
-- `style` ("C" as hexdump -C, default; "xxd" as xxd -g), `squeeze`
-- (hexdump's `*` for repeated lines; default true for style "C").

local M = {}

local options_check = require("memlua.options").check
local OPTIONS = { "space", "group", "width", "style", "squeeze", "addr" }

local function opt_error(name, want, got, level)
  error(("bad option '%s' to 'hexdump' (%s expected, got %s)"):format(name, want, tostring(got)), level + 1)
end

local function options(o, level)
  o = o or {}
  if type(o) ~= "table" then opt_error("options", "table", type(o), level + 1) end
  options_check(o, OPTIONS, "hexdump", level + 1)
  local group = o.group or 1
  if group ~= 1 and group ~= 2 and group ~= 4 and group ~= 8 then
    opt_error("group", "1, 2, 4 or 8", group, level + 1)
  end
  local width = o.width or 16
  if math.type(width) ~= "integer" or width < group or width % group ~= 0 or width > 256 then
    opt_error("width", "a multiple of group up to 256", width, level + 1)
  end
  local style = o.style or "C"
  if style ~= "C" and style ~= "xxd" then opt_error("style", '"C" or "xxd"', style, level + 1) end
  local squeeze = o.squeeze
  if squeeze == nil then squeeze = style == "C" end
  return { group = group, width = width, style = style, squeeze = squeeze, addr = o.addr or 0 }
end

local function printable(s)
  return (s:gsub("[^\32-\126]", "."))
end

local function columns(chunk, o)
  local cols, g = {}, o.group
  if g == 1 or o.style == "xxd" then
    -- xxd -g N: the bytes in memory order, N to a column.
    for i = 1, #chunk, g do
      cols[#cols + 1] = chunk:sub(i, i + g - 1):gsub(".", function(c) return ("%02x"):format(c:byte()) end)
    end
  else
    local fmt = "<I" .. g
    for i = 1, #chunk - g + 1, g do
      local v = string.unpack(fmt, chunk, i)
      cols[#cols + 1] = ("%0" .. (2 * g) .. "x"):format(v)
    end
  end
  return cols
end

--- The hex part of one line, padded so the text column lines up.
local function hex_part(chunk, o)
  local cols = columns(chunk, o)
  local per_line = o.width // o.group
  local colw = 2 * o.group
  if o.style == "xxd" then
    local parts = {}
    for i = 1, per_line do parts[i] = cols[i] or (" "):rep(colw) end
    return table.concat(parts, " ")
  end
  -- hexdump -C: one space between columns, two at the middle of the line.
  local half = per_line // 2
  local out = {}
  for i = 1, per_line do
    out[#out + 1] = cols[i] or (" "):rep(colw)
    if i < per_line then out[#out + 1] = (i == half) and "  " or " " end
  end
  return table.concat(out)
end

local function addr_fmt(last)
  -- 8 digits, more when the addresses need them (kernel addresses: 16).
  if math.ult(0xffffffff, last) then return "%016x" end
  return "%08x"
end

--- Formats `data` (a string) as if it were at o.addr.
local function format(data, o)
  local lines, n = {}, #data
  if n == 0 then return "" end
  local base = o.addr
  local afmt = addr_fmt(base + (n > 0 and n - 1 or 0))
  local prev, starred = nil, false
  for off = 0, n - 1, o.width do
    local chunk = data:sub(off + 1, off + o.width)
    if o.squeeze and chunk == prev and #chunk == o.width then
      if not starred then lines[#lines + 1] = "*"; starred = true end
    else
      starred = false
      local a = afmt:format(base + off)
      if o.style == "xxd" then
        lines[#lines + 1] = a .. ": " .. hex_part(chunk, o) .. "  " .. printable(chunk)
      else
        lines[#lines + 1] = a .. "  " .. hex_part(chunk, o) .. "  |" .. printable(chunk) .. "|"
      end
    end
    prev = chunk
  end
  if o.style == "C" then lines[#lines + 1] = afmt:format(base + n) end
  return table.concat(lines, "\n") .. "\n"
end

--- The bytes of [addr, addr+len) in `space`, read with accesses of `group`
--- bytes (group 1: one bulk read).
function M.read(addr, len, space, group)
  local api = (space == nil or space == "phys") and mem or (space == "kernel" and kmem) or nil
  if api == nil then opt_error("space", '"phys" or "kernel"', space, 2) end
  group = group or 1
  if group == 1 then return api.read(addr, len) end
  if len % group ~= 0 then
    error(("bad argument 'len' to 'hexdump' (%d is not a multiple of group %d)"):format(len, group), 2)
  end
  local rd, parts, fmt = api["read" .. (group * 8)], {}, "<I" .. group
  for off = 0, len - 1, group do
    parts[#parts + 1] = string.pack(fmt, rd(addr + off))
  end
  return table.concat(parts)
end

--- A dump of memory as a string (ends in a newline).
function M.dump(addr, len, opts)
  local o = options(opts, 2)
  if math.type(addr) ~= "integer" then error("bad argument #1 to 'hexdump.dump' (address expected, got " .. tostring(addr) .. ")", 2) end
  if math.type(len) ~= "integer" or len < 0 then error("bad argument #2 to 'hexdump.dump' (length expected, got " .. tostring(len) .. ")", 2) end
  o.addr = addr
  local data = M.read(addr, len, (opts or {}).space, o.group)
  return format(data, o)
end

--- A dump of the bytes of `s`, shown at `opts.addr` (default 0).
function M.string(s, opts)
  if type(s) ~= "string" then error("bad argument #1 to 'hexdump.string' (string expected, got " .. type(s) .. ")", 2) end
  local o = options(opts, 2)
  if o.style == "C" and o.group > 1 and #s % o.group ~= 0 then
    error(("bad argument #1 to 'hexdump.string' (%d bytes is not a multiple of group %d)"):format(#s, o.group), 2)
  end
  return format(s, o)
end

--- Prints a dump of memory to stdout.
function M.print(addr, len, opts)
  io.write(M.dump(addr, len, opts))
end

return M
