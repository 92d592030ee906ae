-- Runs a tests/lua suite in the memlua binary, as tests/trace.rs records
-- and replays them: `memlua tests/support/cli_suite.lua SUITE`. The
-- prelude's helpers print each failure with its place; the last line
-- counts them.
local suite = ...
local dir = arg[0]:match("^(.*)/[^/]*$") or "."
local failures = 0
local function fail(msg, level)
  local info = debug.getinfo(level + 1, "Sl")
  print(("%s:%d: %s"):format(info.short_src, info.currentline, msg))
  failures = failures + 1
end
assert(loadfile(dir .. "/prelude.lua"))(fail)
dofile(suite)
collectgarbage()
print(("%s: %d failure(s)"):format(suite, failures))
