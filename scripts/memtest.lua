-- memtest: test a physical range, overwriting it: walking ones/zeros, address-in-address, March C-
--
-- memlua memtest [--json] [-a ALG[,ALG]] [-w 32|64] [-b BLOCK] ADDRESS LENGTH
-- ALG: walking1, walking0, address, march (default), all. The test WRITES
-- the whole range: whatever it held is lost (on the simulator nothing
-- real is). It prints its header first, then checks that the range keeps
-- what is written (the first word of each page, restored after), so ROM,
-- a device or a hole is named (with the simulator's region) before any
-- test runs; then the first 20 failing addresses as they are found and
-- how many more there were (--json lists every one), and a summary. Exit
-- 1 when any test failed, 2 on a usage error. A progress bar shows on a
-- terminal once a run has taken a second.

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
  notes = "memtest overwrites the range: whatever it held is lost. It prints its header first, checks the range keeps what is written (ROM, a device or a hole is named, with the simulator's region), then the first 20 failing addresses and how many more (--json lists every one), and a summary. A progress bar shows on a terminal once a run has taken a second.",
  exit = "Exit status: 0 every test passed, 1 a test failed (or memory could not be reached), 2 usage error.",
}
local USAGE = cli.usage(SPEC)
local args = cli.args(...)
if cli.help_asked(args) then
  io.stdout:write(cli.help(SPEC))
  cli.exit(0)
end
local json = cli.take_json(args)
local function usage(why) cli.usage_error("memtest", why, USAGE) end
local opts, first = cli.getopt(args, SPEC, usage)
local o = { word = 64 }
for _, p in ipairs(opts) do
  if p[1] == "a" then
    if p[2] == "all" then o.algorithms = "all" else
      o.algorithms = {}
      for a in p[2]:gmatch("[^,]+") do
        if not memtest.cost[a] then usage("unknown algorithm '" .. a .. "'") end
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
local wb = o.word // 8
if o.addr % wb ~= 0 or o.len % wb ~= 0 then
  usage(("ADDRESS and LENGTH must be multiples of %d bytes (%d-bit words)"):format(wb, o.word))
end
if o.block and (o.block < wb or o.block % wb ~= 0) then
  usage(("the block size must be a multiple of %d bytes (%d-bit words)"):format(wb, o.word))
end
local algorithms = o.algorithms == "all" and memtest.ALGORITHMS or o.algorithms or { "march" }

-- The header, before anything is written.
local SHOWN = 20
if json then
  io.stdout:write(('{"addr":%s,"algorithms":%s,"len":%s,"word":%d,"failures":['):format(
    cli.json(cli.hex(o.addr)), cli.json(cli.array { table.unpack(algorithms) }), cli.json(cli.hex(o.len)), o.word))
else
  io.stdout:write(("memtest 0x%x-0x%x (%d bytes, %d-bit words): %s\n"):format(o.addr, o.addr + o.len - 1, o.len,
    o.word, table.concat(algorithms, ", ")))
end
io.stdout:flush()

--- Ends the run on an error: in --json mode the object is closed with it.
local function fail(e)
  io.stderr:write("memtest: ", type(e) == "table" and e.op == "memtest" and e.message or tostring(e), "\n")
  if json then io.stdout:write('],"error":', cli.json(cli.error_json(e).error), "}\n") end
  cli.exit(1)
end

--- The simulator's region holding `a`, as "region 'bios', kind rom", or nil.
local function region_of(a)
  local ok, regions = pcall(sim.regions)
  if not ok then return nil end
  for _, r in ipairs(regions) do
    if not math.ult(a, r.base) and math.ult(a - r.base, r.size) then
      return ("region '%s', kind %s"):format(r.name, r.kind)
    end
  end
  return "no region"
end

local function popcount(v)
  local n = 0
  while v ~= 0 do v = v & (v - 1); n = n + 1 end
  return n
end

--- Whether the range keeps what is written: the first word of each page
--- gets its complement, is read back and restored. Where most bits did
--- not take, it is ROM, a device or a hole, found here before a test
--- floods the output with failures; a bit or two wrong is memory with a
--- fault, which the test is for.
local function check_range()
  local rd, wr = mem["read" .. o.word], mem["write" .. o.word]
  local mask = o.word == 64 and -1 or 0xffffffff
  local PAGE = 4096
  local off = 0
  while math.ult(off, o.len) do
    local a = o.addr + off
    local v = rd(a)
    local want = ~v & mask
    wr(a, want)
    local got = rd(a)
    wr(a, v)
    if popcount(got ~ want) > o.word // 2 then
      local where = region_of(a)
      return require("memlua.host").error {
        errno = "EIO", op = "memtest", addr = a,
        message = ("0x%x does not keep what is written (wrote 0x%x, read 0x%x): ROM, a device or no memory there%s; nothing was tested"):format(
          a, want, got, where and (" (on the simulator: " .. where .. ")") or ""),
      }
    end
    off = (a // PAGE + 1) * PAGE - o.addr
  end
end
local ok, bad = pcall(check_range)
if not ok then fail(bad) end
if bad then fail(bad) end

local bar = cli.progress(o.len, "memtest", { after = 1 })
o.progress = function(done, total) bar:set(math.floor(done / total * o.len)) end
o.max_failures = 0
local count = 0
if json then
  o.on_failure = function(f)
    count = count + 1
    io.stdout:write(count > 1 and "," or "", cli.json {
      addr = cli.hex(f.addr), expected = cli.hex(f.expected), actual = cli.hex(f.actual),
      algorithm = f.algorithm, element = f.element })
  end
else
  o.on_failure = function(f)
    count = count + 1
    if count <= SHOWN then
      bar:println(("  FAIL 0x%x expected 0x%x got 0x%x (%s, %s)\n"):format(f.addr, f.expected, f.actual, f.algorithm,
        f.element))
    end
  end
end
local ok2, r = pcall(memtest.run, o)
bar:finish()
if not ok2 then fail(r) end
if json then
  io.stdout:write(('],"failure_count":%d,"ok":%s,"ops":%d,"elapsed_ns":%d}\n'):format(r.failure_count,
    tostring(r.ok), r.ops, r.elapsed_ns))
else
  if r.failure_count > SHOWN then
    print(("  ... and %d more failures (--json lists every one)"):format(r.failure_count - SHOWN))
  end
  print(("%s: %d word operations, %d failure%s, %.3f s"):format(r.ok and "PASS" or "FAIL", r.ops,
    r.failure_count, r.failure_count == 1 and "" or "s", r.elapsed_ns / 1e9))
end
cli.exit(r.ok and 0 or 1)
