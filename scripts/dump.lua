-- dump: copy a physical or kernel range to a file, or print it as a hexdump
--
-- memlua dump [--json] [-k] [-g 1|2|4|8] [-x] [-o FILE] ADDRESS LENGTH
-- -k kernel virtual memory (default physical), -g group width in bytes,
-- -x xxd style, -o FILE writes the raw bytes instead of a hexdump.
-- ADDRESS may be a kernel symbol with -k. A progress bar shows on a
-- terminal for copies over 4 MiB. A range that runs past the end of the
-- memory (a --mem file) dumps what exists, then the error (exit 1).
-- --json prints {"addr":"0x..","len":"0x..","space":..,"hex":".."}
-- ({"file":..,"written":"0x.."} with -o), and "error" in it on a failure.

local cli = require "memlua.cli"
local hexdump = require "memlua.hexdump"
local hexfmt = require "memlua.hexfmt"

local SPEC = cli.spec {
  name = "dump",
  summary = "copy a physical or kernel range to a file, or print it as a hexdump",
  usage = "[--json] [-k] [-g 1|2|4|8] [-x] [-o FILE] ADDRESS LENGTH",
  operands = {
    { "ADDRESS", "where to start: a physical address (0x hex, 0 octal, else decimal), or with -k a kernel address or symbol" },
    { "LENGTH", "how many bytes" },
  },
  options = {
    { "k", help = "kernel virtual memory instead of physical; ADDRESS may be a kernel symbol",
      example = "memlua dump -k hz 8" },
    { "g", value = "1|2|4|8", help = "group width in bytes: memory is read that many bytes at a time, so ADDRESS and LENGTH must be multiples of it",
      example = "memlua dump -g 4 0xFE001000 16" },
    { "x", help = "xxd's layout instead of hexdump -C's", example = "memlua dump -x 0xF0000 64" },
    { "o", value = "FILE", help = "write the raw bytes to FILE instead of a hexdump (a progress bar shows on a terminal over 4 MiB)",
      example = "memlua dump -o bios.bin 0xF0000 0x10000" },
    { long = "json", help = "print what was read (or written to FILE) as JSON", example = "memlua dump --json 0xFFFF5 8" },
  },
}
local USAGE = cli.usage(SPEC)
local args = cli.args(...)
if cli.help_asked(args) then io.stdout:write(cli.help(SPEC)); cli.exit(0) end
local json = cli.take_json(args)
local function usage(why) cli.usage_error("dump", why, USAGE) end
local opts, first = cli.getopt(args, SPEC, usage)
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
  if not ok then cli.fail("dump", a) end
  addr = a
end
if not addr then usage("bad ADDRESS '" .. args[first] .. "'" .. (space == "phys" and " (a kernel symbol needs -k)" or "")) end
local len = cli.parse_uint(args[first + 1])
if not len or len < 0 then usage("bad LENGTH '" .. args[first + 1] .. "'") end
if group > 1 and (addr % group ~= 0 or len % group ~= 0) then
  usage(("with -g %d, ADDRESS and LENGTH must be multiples of %d (memory is read %d bytes at a time)"):format(
    group, group, group))
end

--- Ends a dump that stopped at `err`: in --json mode the object so far
--- gets the error and is closed (`tail` is the JSON text before it).
local function stopped(err, tail)
  io.stderr:write("dump: ", tostring(err), "\n")
  if json then io.stdout:write(tail, ',"error":', cli.json(cli.error_json(err).error), "}\n") end
  cli.exit(1)
end

local head = ('{"addr":%s,"len":%s,"space":%s'):format(cli.json(cli.hex(addr)), cli.json(cli.hex(len)), cli.json(space))
local CH = 1 << 20

if out then
  -- Memory can hold secrets: the file is created 0600, and a symbolic
  -- link planted at its path is refused rather than followed.
  local f, err = require("memlua.host").create(out)
  if not f then cli.fail("dump", "cannot open " .. tostring(err), 1, "EIO") end
  local function wrote(ok, werr)
    if not ok then f:close(); cli.fail("dump", "cannot write " .. tostring(werr), 1, "EIO") end
  end
  local bar = cli.progress(len, "dump")
  local done = 0
  while done < len do
    local s, e = hexdump.read_some(addr + done, math.min(CH, len - done), space, group)
    wrote(f:write(s))
    done = done + #s
    bar:set(done)
    if e then
      bar:finish(); f:close()
      stopped(e, head .. (',"file":%s,"written":%s'):format(cli.json(out), cli.json(cli.hex(done))))
    end
  end
  bar:finish()
  local closed, cerr = f:close()
  if not closed then cli.fail("dump", "cannot write " .. tostring(cerr), 1, "EIO") end
  if json then print(head .. (',"file":%s,"written":%s}'):format(cli.json(out), cli.json(cli.hex(done)))) end
elseif json then
  -- Streamed as hex digits: constant memory whatever the length.
  io.stdout:write(head, ',"hex":"')
  local done = 0
  while done < len do
    local s, e = hexdump.read_some(addr + done, math.min(CH, len - done), space, group)
    io.stdout:write(hexfmt.hex(s))
    done = done + #s
    if e then stopped(e, '"') end
  end
  io.stdout:write('"}\n')
else
  -- Streamed: lines appear as memory is read, in constant memory; a
  -- failure part-way prints what was read, then the error.
  local ok, err = pcall(hexdump.print, addr, len, { space = space, group = group, style = style })
  if not ok then io.stdout:flush(); cli.fail("dump", err) end
end
