-- dump: copy a physical or kernel range to a file, or print it as a hexdump
--
-- memlua dump [--json] [-k] [-g 1|2|4|8] [-x] [-o FILE] ADDRESS LENGTH
-- -k kernel virtual memory (default physical), -g group width in bytes,
-- -x xxd style, -o FILE writes the raw bytes instead of a hexdump.
-- ADDRESS may be a kernel symbol with -k. A progress bar shows on a
-- terminal for copies over 4 MiB.

local cli = require "memlua.cli"
local hexdump = require "memlua.hexdump"

local USAGE = "usage: memlua dump [--json] [-k] [-g 1|2|4|8] [-x] [-o FILE] ADDRESS LENGTH\n"
local args = cli.args(...)
if args[1] == "--help" or args[1] == "-h" then io.stdout:write(USAGE); cli.exit(0) end
local json = cli.take_flag(args, "--json")
local function usage(why) io.stderr:write("dump: ", why, "\n", USAGE); cli.exit(2) end
local opts, first = cli.getopt(args, "kg:xo:", usage)
local space, group, style, out = "phys", 1, "C", nil
for _, p in ipairs(opts) do
  if p[1] == "k" then space = "kernel"
  elseif p[1] == "g" then group = tonumber(p[2]); if not ({ [1] = 1, [2] = 1, [4] = 1, [8] = 1 })[group] then usage("group must be 1, 2, 4 or 8") end
  elseif p[1] == "x" then style = "xxd"
  else out = p[2] end
end
if not args[first] or not args[first + 1] then usage("ADDRESS and LENGTH are needed") end
if args[first + 2] then usage("unexpected argument '" .. args[first + 2] .. "' after LENGTH") end
local addr = cli.parse_uint(args[first])
if not addr and space == "kernel" then
  local ok, a = pcall(kmem.symbol, args[first])
  if not ok then io.stderr:write("dump: ", tostring(a), "\n"); cli.exit(1) end
  addr = a
end
if not addr then usage("bad ADDRESS '" .. args[first] .. "'" .. (space == "phys" and " (a kernel symbol needs -k)" or "")) end
local len = cli.parse_uint(args[first + 1])
if not len or len < 0 then usage("bad LENGTH '" .. args[first + 1] .. "'") end
if group > 1 and (addr % group ~= 0 or len % group ~= 0) then
  usage(("with -g %d, ADDRESS and LENGTH must be multiples of %d (memory is read %d bytes at a time)"):format(
    group, group, group))
end
local api = space == "kernel" and kmem or mem

local function fail(e) io.stderr:write("dump: ", tostring(e), "\n"); cli.exit(1) end

if out then
  -- Memory can hold secrets: the file is created 0600, and a symbolic
  -- link planted at its path is refused rather than followed.
  local f, err = require("memlua.host").create(out)
  if not f then fail("cannot open " .. tostring(err)) end
  local bar = cli.progress(len, "dump")
  local CH = 1 << 20
  for off = 0, len - 1, CH do
    local ok, s = pcall(api.read, addr + off, math.min(CH, len - off))
    if not ok then f:close(); fail(s) end
    local written, werr = f:write(s)
    if not written then f:close(); fail("cannot write " .. tostring(werr)) end
    bar:set(off + #s)
  end
  bar:finish()
  local closed, cerr = f:close()
  if not closed then fail("cannot write " .. tostring(cerr)) end
  if json then print(cli.json { addr = addr, len = len, space = space, file = out }) end
elseif json then
  local ok, s = pcall(hexdump.read, addr, len, space, group)
  if not ok then fail(s) end
  print(cli.json { addr = addr, len = len, space = space,
    hex = (s:gsub(".", function(c) return ("%02x"):format(c:byte()) end)) })
else
  -- Streamed: lines appear as memory is read, in constant memory; a
  -- failure part-way ends the dump where it happened.
  local ok, err = pcall(hexdump.print, addr, len, { space = space, group = group, style = style })
  if not ok then io.stdout:flush(); fail(err) end
end
