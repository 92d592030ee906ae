-- devmem: read or write one physical address, as busybox devmem does
--
-- Drops into shell scripts written for busybox devmem: the same arguments
-- (WIDTH in bits 8/16/32/64, or b/h/w/l), the same output (`0x%0*X`, as
-- many upper-case digits as the width has nibbles), the same usage text and
-- exit status 1 on a bad address, width or value. A VALUE wider than WIDTH
-- is refused (busybox cuts it to the width without a word). Writing needs
-- a writable backend (the simulator is; native needs --write). `--json`
-- prints {"addr":"0x..","width":..,"value":"0x.."} instead ("written":true
-- after a write), or {"error":{"errno":..,"message":..}}.

local cli = require "memlua.cli"

local USAGE = [==[
Usage: devmem ADDRESS [WIDTH [VALUE]]

Read/write from physical address

	ADDRESS	Address to act upon
	WIDTH	Width (8/16/...)
	VALUE	Data to be written
]==]

local SPEC = cli.spec {
  name = "devmem",
  summary = "read or write one physical address, as busybox devmem does",
  usage = "[--json] ADDRESS [WIDTH [VALUE]]",
  operands = {
    { "ADDRESS", "the physical address to act upon (0x hex, 0 octal, else decimal)" },
    { "WIDTH", "the access width in bits: 8, 16, 32 (default) or 64, or b, h, w, l" },
    { "VALUE", "the value to write, cut to WIDTH; without it the address is read and printed as 0x%0*X" },
  },
  options = {
    { long = "json", help = "print the address, width and value read or written as JSON",
      example = "memlua devmem --json 0xFE001008" },
  },
  notes = "Examples: memlua devmem 0xFE001008 reads the simulated timer's frequency (0x00989680); "
    .. "memlua devmem 0xFE003000 32 0x1234 writes. Writing needs a writable backend: the simulator "
    .. "is, the native one needs memlua -w.",
  exit = "Exit status: 0 success, 1 failure or bad arguments (busybox devmem's usage text on stderr).",
}

local args = cli.args(...)
if #args == 1 and cli.help_asked(args) then
  io.stdout:write(cli.help(SPEC))
  cli.exit(0)
end
local json = cli.take_json(args)

--- busybox's usage text, exit 1; `why` goes in the JSON error.
local function usage(why)
  io.stderr:write(USAGE)
  cli.json_error(why, "EINVAL")
  cli.exit(1)
end

if not args[1] then usage("ADDRESS is needed") end
local addr = cli.parse_uint(args[1], true)
if not addr then usage("bad ADDRESS '" .. args[1] .. "'") end

local width = 32
local value
if args[2] then
  local w = args[2]
  if w:match("^%d") or #w > 1 then
    width = w:match("^%d+$") and tonumber(w) or nil
  else
    width = ({ b = 8, h = 16, w = 32, l = 64 })[w:lower()]
  end
  if width ~= 8 and width ~= 16 and width ~= 32 and width ~= 64 then usage("bad WIDTH '" .. args[2] .. "'") end
  if args[3] then
    value = cli.parse_uint(args[3], true)
    if not value then usage("bad VALUE '" .. args[3] .. "'") end
    if width < 64 and value >> width ~= 0 then
      cli.fail("devmem", ("VALUE %s does not fit in %d bits (busybox would write 0x%x)"):format(
        args[3], width, value & ((1 << width) - 1)), 1, "EINVAL")
    end
  end
end
if args[4] then usage("unexpected argument '" .. args[4] .. "'") end

local function fail(e) cli.fail("devmem", e) end

local hexfmt = "0x%0" .. (width // 4) .. "X"
if value == nil then
  local ok, v = pcall(mem["read" .. width], addr)
  if not ok then fail(v) end
  if json then
    print(cli.json { addr = cli.hex(addr), width = width, value = cli.hex(v) })
  else
    print(hexfmt:format(v))
  end
else
  local ok, e = pcall(mem["write" .. width], addr, value)
  if not ok then fail(e) end
  if json then
    print(cli.json { addr = cli.hex(addr), width = width, value = cli.hex(value), written = true })
  end
end
