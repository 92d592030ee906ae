-- trace: show, count, compare and export access traces (memlua --record FILE)
--
-- memlua trace show FILE                 every operation: seq, time, op, address
--                                        (and its region), width, value, script line;
--                                        "not performed" by a dry run's writes
-- memlua trace stats FILE                accesses per op and per region
-- memlua trace diff A B                  the first operation where two traces part
--                                        (exit 1 when they do, 0 when they agree)
-- memlua trace export --qtest FILE [-o OUT]
--                                        the physical accesses as a QEMU qtest script:
--   qemu-system-x86_64 -machine q35 -accel tcg -S -display none -qtest stdio < OUT

local cli = require "memlua.cli"
local tf = require "memlua.tracefile"

local SPEC = cli.spec {
  name = "trace",
  summary = "show, count, compare and export access traces (made with memlua --record FILE)",
  usage = "show|stats|diff|export [options] FILE...",
  options = {
    { long = "qtest", help = "export: write the trace as a QEMU qtest command script (the one format there is)",
      example = "memlua trace export --qtest examples/traces/uart-hello.jsonl" },
  },
  commands = {
    { "show", usage = "FILE", help = "every operation: seq, time, op, address (with its region), width, value (\"not performed\" beside a write a --dry-run did not make), script line",
      example = "memlua trace show examples/traces/uart-hello.jsonl" },
    { "stats", usage = "FILE", help = "accesses per op and per region",
      example = "memlua trace stats examples/traces/uart-hello.jsonl" },
    { "diff", usage = "A B", help = "the first operation where two traces part (exit 1 when they do, 0 when they agree)",
      example = "memlua trace diff examples/traces/uart-hello.jsonl examples/traces/uart-hello.jsonl" },
    { "export", usage = "--qtest FILE [-o OUT]",
      help = "the physical accesses as a QEMU qtest script, which qemu-system-x86_64 reads on its qtest channel",
      example = "memlua trace export --qtest examples/traces/uart-hello.jsonl -o uart.qtest",
      options = {
        { "o", value = "OUT", help = "write to OUT instead of standard output",
          example = "memlua trace export --qtest examples/traces/uart-hello.jsonl -o uart.qtest" },
      } },
  },
}
local USAGE = cli.usage(SPEC)

local args = cli.args(...)
local function usage(why)
  if why then io.stderr:write("trace: ", why, "\n") end
  io.stderr:write(USAGE)
  cli.exit(2)
end

-- A trace that cannot be read is a failure (1), named with its line.
local function run(f, ...)
  local ok, res, more = pcall(f, ...)
  if not ok then
    io.stderr:write("trace: ", tostring(res):gsub("^[^:]*:%d+: ", ""), "\n")
    cli.exit(1)
  end
  return res, more
end

if cli.help_asked(args) or args[1] == "help" then io.stdout:write(cli.help(SPEC)); cli.exit(0) end
local cmd = table.remove(args, 1)
if cmd == nil then usage("a command is needed") end

if cmd == "show" or cmd == "stats" then
  if #args ~= 1 then usage(cmd .. " takes one FILE") end
  run(tf[cmd], args[1])
elseif cmd == "diff" then
  if #args ~= 2 then usage("diff takes two FILEs") end
  local same, diff = run(tf.diff, args[1], args[2])
  if diff then
    io.stdout:write(diff, "\n")
    cli.exit(1)
  end
  io.stdout:write(("the traces agree: %d operations\n"):format(same))
elseif cmd == "export" then
  local qtest = cli.take_flag(args, "--qtest")
  local out, files = nil, {}
  local i = 1
  while i <= #args do
    if args[i] == "-o" then
      out = args[i + 1] or usage("-o needs a file")
      i = i + 2
    else
      files[#files + 1] = args[i]
      i = i + 1
    end
  end
  if not qtest then usage("export needs a format: --qtest") end
  if #files ~= 1 then usage("export takes one FILE") end
  local n = run(tf.qtest, files[1], out)
  local left = n.failed + n.other_space + n.not_access + n.not_performed
  if left > 0 then
    io.stderr:write(("trace: %d qtest commands; left out: %d failed on the recorded machine, %d not physical memory, %d not memory accesses, %d writes a dry run did not perform\n")
      :format(n.commands, n.failed, n.other_space, n.not_access, n.not_performed))
  end
else
  usage("unknown command '" .. cmd .. "'")
end
