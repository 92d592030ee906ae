-- memtest: test a physical range with walking ones/zeros, address-in-address and March C-
--
-- memlua memtest [--json] [-a ALG[,ALG]] [-w 32|64] [-b BLOCK] ADDRESS LENGTH
-- ALG: walking1, walking0, address, march (default), all. Prints a summary
-- and every failing address (at most 1000); exit 1 when any test failed,
-- 2 on a usage error. A progress bar shows on a terminal for runs over
-- 4 MiB.

local cli = require "memlua.cli"
local memtest = require "memlua.memtest"

local SPEC = cli.spec {
  name = "memtest",
  summary = "test a physical range with walking ones/zeros, address-in-address and March C-",
  usage = "[--json] [-a ALG[,ALG...]|all] [-w 32|64] [-b BLOCK] ADDRESS LENGTH",
  operands = {
    { "ADDRESS", "the physical address the test starts at (0x hex, 0 octal, else decimal)" },
    { "LENGTH", "how many bytes to test" },
  },
  options = {
    { "a", value = "ALG[,ALG...]|all", help = "the tests to run: walking1, walking0, address, march (March C-, the default), or all of them",
      example = "memlua memtest -a walking1,address 0x1000000 0x10000" },
    { "w", value = "32|64", help = "the word width in bits (default 64)", example = "memlua memtest -w 32 0x1000000 0x10000" },
    { "b", value = "BLOCK", help = "run March C- BLOCK bytes at a time with bulk reads and writes: much faster, but a coupling fault between two words of one block can go unseen",
      example = "memlua memtest -b 65536 0x1000000 0x1000000" },
    { long = "json", help = "print the result, every failure included, as JSON", example = "memlua memtest --json 0x1000000 0x10000" },
  },
  notes = "Prints a summary and every failing address (at most 1000). A progress bar shows on a terminal for runs over 4 MiB.",
  exit = "Exit status: 0 every test passed, 1 a test failed (or memory could not be reached), 2 usage error.",
}
local USAGE = cli.usage(SPEC)
local args = cli.args(...)
if cli.help_asked(args) then
  io.stdout:write(cli.help(SPEC))
  cli.exit(0)
end
local json = cli.take_flag(args, "--json")
local function usage(why)
  io.stderr:write("memtest: ", why, "\n", USAGE)
  cli.exit(2)
end
local opts, first = cli.getopt(args, SPEC, usage)
local o = {}
for _, p in ipairs(opts) do
  if p[1] == "a" then
    if p[2] == "all" then o.algorithms = "all" else
      o.algorithms = {}
      for a in p[2]:gmatch("[^,]+") do
        if not memtest[a] or type(memtest[a]) ~= "function" or a == "run" or a == "march_block" then usage("unknown algorithm '" .. a .. "'") end
        o.algorithms[#o.algorithms + 1] = a
      end
    end
  elseif p[1] == "w" then
    o.word = tonumber(p[2]); if o.word ~= 32 and o.word ~= 64 then usage("word must be 32 or 64") end
  else
    o.block = cli.parse_uint(p[2]); if not o.block then usage("bad block size '" .. p[2] .. "'") end
  end
end
if not args[first] or not args[first + 1] then usage("ADDRESS and LENGTH are needed") end
o.addr = cli.parse_uint(args[first]) or usage("bad ADDRESS '" .. args[first] .. "'")
o.len = cli.parse_uint(args[first + 1]) or usage("bad LENGTH '" .. args[first + 1] .. "'")
if o.len == 0 then usage("LENGTH is zero: there is nothing to test") end
if args[first + 2] then usage("unexpected argument '" .. args[first + 2] .. "'") end
local bar = cli.progress(o.len, "memtest", 4 << 20)
local total_bytes = o.len
o.progress = function(done, total) bar:set(done * total_bytes // total) end
local ok, r = pcall(memtest.run, o)
bar:finish()
if not ok then
  io.stderr:write("memtest: ", tostring(r), "\n")
  cli.exit(type(r) == "string" and 2 or 1)
end
if json then
  r.failures = cli.array(r.failures)
  print(cli.json(r))
else
  print(("memtest 0x%x-0x%x (%d bytes, %d-bit words): %s"):format(r.addr, r.addr + r.len - 1, r.len, r.word,
    table.concat(r.algorithms, ", ")))
  for _, f in ipairs(r.failures) do
    print(("  FAIL 0x%x expected 0x%x got 0x%x (%s, %s)"):format(f.addr, f.expected, f.actual, f.algorithm, f.element))
  end
  print(("%s: %d word operations, %d failure%s, %.3f s"):format(r.ok and "PASS" or "FAIL", r.ops,
    r.failure_count, r.failure_count == 1 and "" or "s", r.elapsed_ns / 1e9))
end
cli.exit(r.ok and 0 or 1)
