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
--
-- Memory is read 64 KiB at a time, so `print` streams: a dump of any size
-- in constant memory. When a read fails part-way (the end of a --mem
-- file, a hole), the dump shows the bytes before the first one that could
-- not be read, as hexdump does at the end of a file, then raises the error.
-- `read_some(addr, len [, space [, group]])` is that read on its own: the
-- bytes, and the error when it stopped early.

local M = {}

local options_check = require("memlua.options").check
local hexfmt = require "memlua.hexfmt"
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

--- A dump of a byte stream shown from address `base`, made as the bytes
--- come: feed(bytes) returns the text of every line completed so far,
--- finish() the rest. The text is made in Rust (memlua.hexfmt, which the
--- dump tool shares), so a dump runs as fast as hexdump and xxd do.
local function formatter(o, base)
  local f = hexfmt.new { group = o.group, width = o.width, style = o.style, squeeze = o.squeeze, addr = base }
  return function(data) return f:feed(data) end, function() return f:finish() end
end

local function api_of(space, level)
  local api = (space == nil or space == "phys") and mem or (space == "kernel" and kmem) or nil
  if api == nil then opt_error("space", '"phys" or "kernel"', space, level + 1) end
  return api
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

--- The bytes of [addr, addr+len) in `space`, read with accesses of `group`
--- bytes (group 1: one bulk read).
function M.read(addr, len, space, group)
  local api = api_of(space, 2)
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

--- Like M.read, but a read that fails part-way returns the bytes before
--- the first one that cannot be read, and the error: a dump then shows
--- what exists, as hexdump does at the end of a file. No word is read
--- twice (a device register's read may have effects).
local function read_some(api, addr, len, group)
  group = group or 1
  if group > 1 then
    local rd, parts, fmt = api["read" .. (group * 8)], {}, "<I" .. group
    for off = 0, len - 1, group do
      local ok, v = pcall(rd, addr + off)
      if not ok then return table.concat(parts), v end
      parts[#parts + 1] = string.pack(fmt, v)
    end
    return table.concat(parts)
  end
  local ok, s = pcall(api.read, addr, len)
  if ok then return s end
  -- A bulk read fails whole: halve the size until a read succeeds, go on
  -- from there, and stop at the first byte that cannot be read.
  local parts, got, size, err = {}, 0, len // 2, s
  while size >= 1 and got < len do
    local ok2, t = pcall(api.read, addr + got, math.min(size, len - got))
    if ok2 then
      parts[#parts + 1] = t
      got = got + #t
    else
      err, size = t, size // 2
    end
  end
  return table.concat(parts), got < len and err or nil
end

--- read_some(addr, len, space, group) -> bytes [, error]: M.read that
--- stops at the first byte it cannot read and returns what came before
--- with the error, instead of raising.
function M.read_some(addr, len, space, group)
  return read_some(api_of(space, 2), addr, len, group)
end

--- Calls emit(text) for a dump of [addr, addr+len), read a chunk at a time.
local function stream(addr, len, opts, fname, emit)
  local o = options(opts, 3)
  if math.type(addr) ~= "integer" then error("bad argument #1 to '" .. fname .. "' (address expected, got " .. tostring(addr) .. ")", 3) end
  if math.type(len) ~= "integer" or len < 0 then error("bad argument #2 to '" .. fname .. "' (length expected, got " .. tostring(len) .. ")", 3) end
  if o.group > 1 and len % o.group ~= 0 then
    error(("bad argument #2 to '%s' (%d is not a multiple of group %d)"):format(fname, len, o.group), 3)
  end
  local api = api_of((opts or {}).space, 3)
  probe(api, addr, len, o.group)
  local feed, finish = formatter(o, addr)
  for off = 0, len - 1, CHUNK do
    local s, err = read_some(api, addr + off, math.min(CHUNK, len - off), o.group)
    emit(feed(s))
    if err then
      emit(finish())
      error(err, 0)
    end
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
