-- memcontrol: list and change memory range attributes, as FreeBSD memcontrol(8)
--
-- FreeBSD's memcontrol (usr.sbin/memcontrol/memcontrol.c) with its output
-- byte for byte (docs/MEM4.md §5): `list [-a] [-o owner]`, `set -b base -l len
-- [-o owner] attribute...`, `clear -o owner`, `clear -b base -l len`, and
-- `help [command]`, with the same help texts on stderr. Without its bugs:
-- a usage error (bad option, bad number, no length, an owner longer than 7
-- bytes, an unknown or unsettable attribute) prints the command's help and
-- exits 2 before anything is changed, and `clear -o` exits 1 when a range
-- could not be cleared. A refusal of the kernel's keeps memcontrol's line
-- ("can't set range: Invalid argument") and adds memlua's explanation on
-- the next. `--json` (anywhere) prints the ranges `list` shows as a JSON
-- array ({"base":"0x..","len":"0x..",...}), `set`/`clear` report what
-- they did as JSON, and an error is {"error":{"errno":..,"message":..}}.

local cli = require "memlua.cli"

-- FreeBSD's strerror(3) texts for the errno values memrange raises.
local STRERROR = {
  EFAULT = "Bad address", EINVAL = "Invalid argument", EBUSY = "Device busy",
  ENOSPC = "No space left on device", ENOENT = "No such file or directory",
  EPERM = "Operation not permitted", ENXIO = "Device not configured",
  EOPNOTSUPP = "Operation not supported", EACCES = "Permission denied",
  EROFS = "Read-only file system", ENOMEM = "Cannot allocate memory",
  EIO = "Input/output error",
}

-- The attribute table in print order (docs/MEM4.md §5).
local ATTRS = {
  { "uncacheable", memrange.UNCACHEABLE, true },
  { "write-combine", memrange.WRITECOMBINE, true },
  { "write-through", memrange.WRITETHROUGH, true },
  { "write-back", memrange.WRITEBACK, true },
  { "write-protect", memrange.WRITEPROTECT, true },
  { "force", memrange.FORCE, true },
  { "unknown", memrange.UNKNOWN, false },
  { "fixed-base", memrange.FIXBASE, false },
  { "fixed-length", memrange.FIXLEN, false },
  { "set-by-firmware", memrange.FIRMWARE, false },
  { "active", memrange.ACTIVE, true },
  { "bogus", memrange.BOGUS, false },
}

local HELP = {
  list = "List current memory range attributes\n    list [-a]\n        -a    list all range slots, even those that are inactive",
  set = "Set memory range attributes\n    set -b <base> -l <length> -o <owner> <attribute>\n        <base>      memory range base address\n        <length>    length of memory range in bytes, power of 2\n        <owner>     text identifier for this setting (7 char max)\n        <attribute> attribute(s) to be applied to this range:\n                        uncacheable\n                        write-combine\n                        write-through\n                        write-back\n                        write-protect",
  clear = "Clear memory range attributes\n    clear -o <owner>\n        <owner>     all ranges with this owner will be cleared\n    clear -b <base> -l <length>\n        <base>      memory range base address\n        <length>    length of memory range in bytes, power of 2\n                    Base and length must exactly match an existing range",
}
local GENERAL = "Valid commands are :\n    list\n    set\n    clear\nUse help <command> for command-specific help\n"

--- memcontrol.c's help(): a command's text, or "Unknown command" and the list.
local function help_text(what)
  if what and HELP[what] then return HELP[what] .. "\n" end
  if what then return ("Unknown command '%s'\n"):format(what) .. GENERAL end
  return GENERAL
end

local OWNER = { "o", value = "OWNER", help = "the text identifier of the setting, 1 to 7 bytes (default user)",
  example = "memlua memcontrol set -b 0xA0000 -l 0x20000 -o vga write-combine" }
local BASE = { "b", value = "BASE", help = "the range's base address", example = "memlua memcontrol clear -b 0x200000000 -l 0x80000000" }
local LENGTH = { "l", value = "LENGTH", help = "the range's length in bytes, a power of 2",
  example = "memlua memcontrol set -b 0xC0000000 -l 0x10000000 write-combine" }
local SPEC = cli.spec {
  name = "memcontrol",
  summary = "list and change memory range attributes, as FreeBSD memcontrol(8)",
  usage = "[--json] list|set|clear|help [options]",
  options = {
    { long = "json", help = "print the ranges list shows as a JSON array; set and clear report what they did as JSON",
      example = "memlua memcontrol --json list" },
  },
  commands = {
    { "list", usage = "[-a] [-o OWNER]", help = "list the active memory ranges: base/length, owner and attributes",
      example = "memlua memcontrol list",
      options = {
        { "a", help = "every range slot, inactive ones too", example = "memlua memcontrol list -a" },
        { "o", value = "OWNER", help = "only the ranges OWNER set", example = "memlua memcontrol list -o BIOS" },
      } },
    { "set", usage = "-b BASE -l LENGTH [-o OWNER] ATTRIBUTE...",
      help = "give a range attributes: uncacheable, write-combine, write-through, write-back, write-protect, "
        .. "and force to override a conflicting range",
      example = "memlua memcontrol set -b 0xA0000 -l 0x20000 -o vga write-combine",
      options = { BASE, LENGTH, OWNER } },
    { "clear", usage = "-o OWNER | -b BASE -l LENGTH",
      help = "clear every range OWNER set, or the range BASE and LENGTH match exactly",
      example = "memlua memcontrol clear -o vga",
      options = { BASE, LENGTH, { "o", value = "OWNER", help = "clear every range this owner set", example = "memlua memcontrol clear -o vga" } } },
    { "help", usage = "[COMMAND]", help = "FreeBSD memcontrol's own help texts, on stderr", example = "memlua memcontrol help set" },
  },
  notes = "The output is FreeBSD's byte for byte. Changing ranges on the native backend needs root and memlua -w.",
}

local args = cli.args(...)
local json = cli.take_json(args)

if cli.help_asked(args) then
  io.stdout:write(cli.help(SPEC))
  cli.exit(0)
end

--- A usage error: the reason, the command's help, exit status 2.
local function usage(cmd, why)
  if why then io.stderr:write("memcontrol: ", why, "\n") end
  io.stderr:write(help_text(cmd))
  cli.json_error(why or "usage: " .. cmd, "EINVAL")
  cli.exit(2)
end

--- err(3)'s "memcontrol: what: strerror", then the reason memrange gave.
local function err_text(what, e)
  if type(e) ~= "table" then return ("memcontrol: %s: %s\n"):format(what, tostring(e)) end
  local text = ("memcontrol: %s: %s\n"):format(what, STRERROR[e.errno] or e.errno)
  if e.message and e.message ~= "" then text = text .. "memcontrol: " .. e.message .. "\n" end
  return text
end

--- err(3): the text above, exit 1.
local function err(what, e)
  io.stderr:write(err_text(what, e))
  cli.json_error(e)
  cli.exit(1)
end

--- mrgetall(): every descriptor, or err() as memcontrol words it.
local function getall()
  local ok, n = pcall(memrange.count)
  if not ok then err("can't size range descriptor array", n) end
  local ok2, ds = pcall(memrange.get, n)
  if not ok2 then err("can't fetch range descriptor array", ds) end
  return ds
end

local function names_of(flags)
  local out = {}
  for _, a in ipairs(ATTRS) do
    if flags & a[2] ~= 0 then out[#out + 1] = a[1] end
  end
  return out
end

local function json_desc(d)
  return {
    base = cli.hex(d.base), len = cli.hex(d.len), owner = d.owner ~= "" and d.owner or nil,
    flags = d.flags, attributes = cli.array(names_of(d.flags)),
    active = d.flags & memrange.ACTIVE ~= 0,
  }
end

local function getopts(cmd, argv)
  return cli.getopt(argv, cli.command(SPEC, cmd), function(msg)
    usage(cmd, msg)
  end)
end

local function number(cmd, opt, s)
  local v = cli.parse_uint(s)
  if v == nil then usage(cmd, ("-%s: '%s' is not a number"):format(opt, s)) end
  return v
end

local function owner_arg(cmd, s)
  if s == "" or #s > 7 then
    usage(cmd, ("owner '%s' must be 1 to 7 bytes long"):format(s))
  end
  return s
end

local commands = {}

function commands.list(argv)
  local opts, first = getopts("list", argv)
  local all, owner = false, nil
  for _, o in ipairs(opts) do
    if o[1] == "a" then all = true else owner = o[2] end
  end
  if argv[first] then usage("list", ("unexpected argument '%s'"):format(argv[first])) end
  local out = {}
  for _, d in ipairs(getall()) do
    if (all or d.flags & memrange.ACTIVE ~= 0) and (owner == nil or d.owner == owner) then
      if json then
        out[#out + 1] = json_desc(d)
      else
        local line = { ("0x%x/0x%x %.8s "):format(d.base, d.len, d.owner ~= "" and d.owner or "-") }
        for _, name in ipairs(names_of(d.flags)) do line[#line + 1] = name .. " " end
        out[#out + 1] = table.concat(line)
      end
    end
  end
  if json then
    print(cli.json(cli.array(out)))
  elseif #out > 0 then
    io.stdout:write(table.concat(out, "\n"), "\n")
  end
end

function commands.set(argv)
  local opts, first = getopts("set", argv)
  local base, len, owner = 0, 0, "user"
  for _, o in ipairs(opts) do
    if o[1] == "b" then base = number("set", "b", o[2])
    elseif o[1] == "l" then len = number("set", "l", o[2])
    else owner = owner_arg("set", o[2]) end
  end
  if len == 0 then usage("set", "a length (-l) is needed") end
  local flags = 0
  for i = first, #argv do
    local found
    for _, a in ipairs(ATTRS) do
      if a[1] == argv[i] then found = a end
    end
    if not found then usage("set", ("unknown attribute '%s'"):format(argv[i])) end
    if not found[3] then usage("set", ("attribute '%s' cannot be set"):format(argv[i])) end
    flags = flags | found[2]
  end
  if first > #argv then usage("set", "an attribute is needed") end
  local d = { base = base, len = len, flags = flags, owner = owner }
  local ok, e = pcall(memrange.set, d)
  if not ok then err("can't set range", e) end
  if json then print(cli.json { set = json_desc(d) }) end
end

function commands.clear(argv)
  local opts, first = getopts("clear", argv)
  local base, len, owner = 0, 0, nil
  for _, o in ipairs(opts) do
    if o[1] == "b" then base = number("clear", "b", o[2])
    elseif o[1] == "l" then len = number("clear", "l", o[2])
    else owner = owner_arg("clear", o[2]) end
  end
  if argv[first] then usage("clear", ("unexpected argument '%s'"):format(argv[first])) end
  local cleared = {}
  if owner then
    if base ~= 0 or len ~= 0 then usage("clear", "give either -o or -b and -l, not both") end
    local failed
    for _, d in ipairs(getall()) do
      if d.owner == owner and d.flags & memrange.ACTIVE ~= 0 and d.flags & memrange.FIXACTIVE == 0 then
        local ok, e = pcall(memrange.remove, { base = d.base, len = d.len })
        if ok then
          cleared[#cleared + 1] = json_desc(d)
        else
          failed = failed or e
          io.stderr:write(err_text(("couldn't clear range owned by '%s'"):format(owner), e))
        end
      end
    end
    if json then
      print(cli.json { cleared = cli.array(cleared), error = failed and cli.error_json(failed).error or nil })
    end
    if failed then cli.exit(1) end
  elseif len ~= 0 then
    local ok, e = pcall(memrange.remove, { base = base, len = len })
    if not ok then err("couldn't clear range", e) end
    if json then print(cli.json { cleared = cli.array { { base = cli.hex(base), len = cli.hex(len) } } }) end
  else
    usage("clear", "give -o owner, or -b base and -l length")
  end
end

if #args == 0 then
  io.stderr:write(GENERAL)
  cli.exit(0)
end
local cmd = table.remove(args, 1)
if cmd == "help" then
  io.stderr:write(help_text(args[1]))
  cli.exit(0)
end
if not commands[cmd] then
  io.stderr:write(("Unknown command '%s'\n"):format(cmd), GENERAL)
  cli.exit(2)
end
commands[cmd](args)
