-- regs: print a device's registers decoded, from a register map or an SVD file
--
-- memlua regs [--json] [--all] [-b BASE] MAP [DEVICE...]
-- MAP is a Lua map file (returning a device map or a list of them) or a
-- CMSIS-SVD file; with no DEVICE every device in it is printed. -b moves
-- a single device to another base; --all also reads registers whose read
-- has effects. --json prints an array of {"name":..,"base":"0x..",
-- "registers":{"REG":{"value":"0x..","fields":[{"name":..,"lsb":..,
-- "width":..,"value":"0x..","enum":..}]}}} (a register that cannot be
-- read holds {"error":{"errno":..,"message":..}}), or {"error":{...}}.

local cli = require "memlua.cli"
local regs = require "memlua.regs"

local SPEC = cli.spec {
  name = "regs",
  summary = "print a device's registers decoded, from a register map or an SVD file",
  usage = "[--json] [--all] [-b BASE] MAP [DEVICE...]",
  operands = {
    { "MAP", "a Lua register map (a file returning a device map or a list of them) or a CMSIS-SVD file" },
    { "DEVICE", "the devices to print (default: every device in MAP, by address)" },
  },
  options = {
    { "b", value = "BASE", help = "move a single device to another base address",
      example = "memlua regs -b 0xFE003000 examples/svd/memlua-pc.svd TIMER0" },
    { long = "all", help = "also read the registers whose read has effects (left out by default)",
      example = "memlua regs --all examples/svd/memlua-pc.svd DMA0" },
    { long = "json", help = "print the registers and their fields as JSON",
      example = "memlua regs --json examples/svd/memlua-pc.svd TIMER0" },
  },
}
local USAGE = cli.usage(SPEC)
local args = cli.args(...)
if cli.help_asked(args) then io.stdout:write(cli.help(SPEC)); cli.exit(0) end
local json = cli.take_json(args)
local all = cli.take_flag(args, "--all")
local function usage(why) cli.usage_error("regs", why, USAGE) end
local opts, first = cli.getopt(args, SPEC, usage)
local base
for _, p in ipairs(opts) do base = cli.parse_uint(p[2]) or usage("bad base '" .. p[2] .. "'") end
local path = args[first]
if not path then usage("a map file is needed") end
local ok, devs = pcall(regs.load, path)
if not ok then cli.fail("regs", devs, 1, "EINVAL") end
local names = {}
for i = first + 1, #args do names[#names + 1] = args[i] end
if #names == 0 then
  for n in pairs(devs) do names[#names + 1] = n end
  table.sort(names, function(a, b) return devs[a].base < devs[b].base end)
end
local out = {}
for _, n in ipairs(names) do
  local d = devs[n]
  if not d then cli.fail("regs", ("no device '%s' in %s"):format(n, path), 1, "ENOENT") end
  if base then d = d:rebase(base) end
  if json then
    local registers = {}
    for name, v in pairs(d:values { all = all }) do
      if v.error then
        -- values() keeps the error's text ("mem.read32: EFAULT: ...").
        registers[name] = cli.error_json(v.error, tostring(v.error):match(": (E%u+): ") or "EIO")
      else
        local fields = cli.array()
        for i, f in ipairs(v.fields) do
          fields[i] = { name = f.name, lsb = f.lsb, width = f.width, value = cli.hex(f.value), enum = f.enum }
        end
        registers[name] = { value = cli.hex(v.value), fields = fields }
      end
    end
    out[#out + 1] = { name = n, base = cli.hex(d.base), registers = registers }
  else
    io.write(d:dump { all = all })
  end
end
if json then print(cli.json(cli.array(out))) end
