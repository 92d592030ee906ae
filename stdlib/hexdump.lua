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

--- The hex part of a short last line, padded so the text column lines up
--- where a full line puts it (a partial xxd group too, as xxd does).
local function hex_part(chunk, o)
  local cols = columns(chunk, o)
  local per_line = o.width // o.group
  local colw = 2 * o.group
  if o.style == "xxd" then
    local parts = {}
    for i = 1, per_line do
      local c = cols[i] or ""
      parts[i] = c .. (" "):rep(colw - #c)
    end
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

--- One string.format for the hex part of a full line: the format, and the
--- string.unpack format of its values (nil: the line's bytes themselves).
local function full_line_format(o)
  local per, g = o.width // o.group, o.group
  if o.style == "xxd" then
    local cols = {}
    for i = 1, per do cols[i] = ("%02x"):rep(g) end
    return table.concat(cols, " "), nil
  end
  local col = g == 1 and "%02x" or ("%0" .. (2 * g) .. "x")
  local half, parts = per // 2, {}
  for i = 1, per do
    parts[#parts + 1] = col
    if i < per then parts[#parts + 1] = (i == half) and "  " or " " end
  end
  return table.concat(parts), g > 1 and ("<I" .. g):rep(per) or nil
end

--- A dump of a byte stream shown from address `base`, made as the bytes
--- come: feed(bytes) returns the text of every line completed so far,
--- finish() the rest. Addresses print as hexdump and xxd print them
--- (%08x: at least 8 digits, as many as they need).
local function formatter(o, base)
  local w = o.width
  local hexfmt, unpack_fmt = full_line_format(o)
  local linefmt = o.style == "xxd" and "%08x: %s  %s" or "%08x  %s  |%s|"
  local pos, prev, starred, pending = 0, nil, false, ""
  local function line(chunk)
    local out
    if o.squeeze and #chunk == w and chunk == prev then
      if not starred then out = "*" end
      starred = true
    else
      starred = false
      local hex
      if #chunk < w then
        hex = hex_part(chunk, o)
      elseif unpack_fmt then
        hex = hexfmt:format(string.unpack(unpack_fmt, chunk))
      else
        hex = hexfmt:format(chunk:byte(1, w))
      end
      out = linefmt:format(base + pos, hex, printable(chunk))
    end
    prev = chunk
    pos = pos + #chunk
    return out
  end
  local function lines(parts)
    return #parts > 0 and (table.concat(parts, "\n") .. "\n") or ""
  end
  local function feed(data)
    if pending ~= "" then data = pending .. data end
    local parts, whole = {}, #data - #data % w
    for off = 1, whole, w do
      parts[#parts + 1] = line(data:sub(off, off + w - 1))
    end
    pending = data:sub(whole + 1)
    return lines(parts)
  end
  local function finish()
    local parts = {}
    if pending ~= "" then parts[1] = line(pending); pending = "" end
    if o.style == "C" and pos > 0 then parts[#parts + 1] = ("%08x"):format(base + pos) end
    return lines(parts)
  end
  return feed, finish
end

-- Memory is read and formatted this much at a time, so a dump of any
-- size streams in constant memory.
local CHUNK = 64 * 1024

--- Before a read of more than one chunk: the range must not wrap (mem.map
--- says so) and its last `group` bytes must be there. A range running past
--- the end of memory then fails at once with the backend's error, not
--- after everything before the end was read. Short ranges are not probed:
--- reading a device register twice can have effects.
local function probe(api, addr, len, group)
  if len <= CHUNK then return end
  api.map(addr, len)
  local last = addr + len - group
  if group == 1 then api.read(last, 1) else api["read" .. (group * 8)](last) end
end

local function space_api(space, level)
  local api = (space == nil or space == "phys") and mem or (space == "kernel" and kmem) or nil
  if api == nil then opt_error("space", '"phys" or "kernel"', space, level + 1) end
  return api
end

--- The bytes of [addr, addr+len) in `space`, read with accesses of `group`
--- bytes (group 1: one bulk read).
function M.read(addr, len, space, group)
  local api = space_api(space, 2)
  group = group or 1
  if group == 1 then return api.read(addr, len) end
  if len % group ~= 0 then
    error(("bad argument 'len' to 'hexdump' (%d is not a multiple of group %d)"):format(len, group), 2)
  end
  probe(api, addr, len, group)
  local rd, parts, fmt = api["read" .. (group * 8)], {}, "<I" .. group
  for off = 0, len - 1, group do
    parts[#parts + 1] = string.pack(fmt, rd(addr + off))
  end
  return table.concat(parts)
end

--- Calls emit(text) for a dump of [addr, addr+len), read a chunk at a time.
local function stream(addr, len, opts, fname, emit)
  local o = options(opts, 3)
  if math.type(addr) ~= "integer" then error("bad argument #1 to '" .. fname .. "' (address expected, got " .. tostring(addr) .. ")", 3) end
  if math.type(len) ~= "integer" or len < 0 then error("bad argument #2 to '" .. fname .. "' (length expected, got " .. tostring(len) .. ")", 3) end
  if o.group > 1 and len % o.group ~= 0 then
    error(("bad argument #2 to '%s' (%d is not a multiple of group %d)"):format(fname, len, o.group), 3)
  end
  local space = (opts or {}).space
  probe(space_api(space, 3), addr, len, o.group)
  local feed, finish = formatter(o, addr)
  for off = 0, len - 1, CHUNK do
    emit(feed(M.read(addr + off, math.min(CHUNK, len - off), space, o.group)))
  end
  emit(finish())
end

--- A dump of memory as a string (ends in a newline).
function M.dump(addr, len, opts)
  local parts = {}
  stream(addr, len, opts, "hexdump.dump", function(text) parts[#parts + 1] = text end)
  return table.concat(parts)
end

--- A dump of the bytes of `s`, shown at `opts.addr` (default 0).
function M.string(s, opts)
  if type(s) ~= "string" then error("bad argument #1 to 'hexdump.string' (string expected, got " .. type(s) .. ")", 2) end
  local o = options(opts, 2)
  if o.style == "C" and o.group > 1 and #s % o.group ~= 0 then
    error(("bad argument #1 to 'hexdump.string' (%d bytes is not a multiple of group %d)"):format(#s, o.group), 2)
  end
  local feed, finish = formatter(o, o.addr)
  return feed(s) .. finish()
end

--- Prints a dump of memory to stdout as it is read: lines appear at once,
--- and a dump of any size needs no more memory than a small one.
function M.print(addr, len, opts)
  stream(addr, len, opts, "hexdump.print", io.write)
end

return M
