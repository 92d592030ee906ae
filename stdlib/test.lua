-- memlua.test: the Lua side of `memlua test` (docs/API.md, Tests). A test
-- file declares its tests with busted's words, and the runner (src/
-- test_runner/) runs them, one file per fresh Lua state and backend:
--
--   describe("uart", function()
--     local uart
--     before_each(function() uart = mem.map(0xFE000000, 8) end)
--     it("is ready to send", function()
--       assert.equal(0x20, uart:read8(5) & 0x20)
--     end)
--     it("faults above the address space", function()
--       expect_error(mem.read32, "EFAULT", 1 << 40)
--     end)
--     pending("loopback mode")
--   end)
--
-- Globals a test file gets: describe, it, before_each, after_each,
-- pending, skip, expect_error, and `assert`: Lua's assert (still
-- callable as `assert(v, msg)`) with busted's assertions as fields
-- (assert.equal, assert.same, assert.error, ...; see ASSERTIONS). Every
-- failure carries the expected and the actual value (integers in hex and
-- decimal, tables as a diff of their keys) and the line of the test file
-- that asserted.

local M = {}

-- Frames of this file are never where a failure is: it is the runner.
local SELF = debug.getinfo(1, "S").source

local host = require "memlua.host"

-- Markers: what a test raises to fail, skip or be pending, told apart
-- from any other error by their metatable.
local FAIL = { __name = "memlua.test failure" }
FAIL.__tostring = function(f) return f.message end
local SKIP = { __name = "memlua.test skip" }
SKIP.__tostring = function(s) return "skipped: " .. s.reason end
local TODO = { __name = "memlua.test pending" }
TODO.__tostring = function(s) return "pending: " .. s.reason end

---------------------------------------------------------------- showing values

local function show_string(s)
  local shown = ("%q"):format(#s > 200 and s:sub(1, 200) or s):gsub("\\\n", "\\n")
  if #s > 200 then shown = shown .. ("... (%d bytes)"):format(#s) end
  return shown
end

local show

local function is_memlua_error(v)
  local mt = getmetatable(v)
  return type(v) == "table" and type(v.errno) == "string" and type(mt) == "table" and mt.__tostring ~= nil
end

-- Keys in a stable order: numbers, then strings, then the rest by text.
local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  local rank = { number = 1, string = 2 }
  table.sort(keys, function(a, b)
    local ra, rb = rank[type(a)] or 3, rank[type(b)] or 3
    if ra ~= rb then return ra < rb end
    if ra == 3 then return tostring(a) < tostring(b) end
    return a < b
  end)
  return keys
end

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  if math.type(k) == "integer" then return ("[%d]"):format(k) end
  return "[" .. show(k) .. "]"
end

local function show_table(t, depth, seen)
  if seen[t] then return "{...}" end
  if depth > 2 then return "{...}" end
  seen[t] = true
  local parts, n = {}, 0
  local keys = sorted_keys(t)
  local seq = #t
  for _, k in ipairs(keys) do
    n = n + 1
    if n > 16 then
      parts[#parts + 1] = ("... (%d more)"):format(#keys - 16)
      break
    end
    local v = t[k]
    local vt = type(v) == "table" and not is_memlua_error(v) and show_table(v, depth + 1, seen) or show(v)
    if math.type(k) == "integer" and k >= 1 and k <= seq then
      parts[#parts + 1] = vt
    else
      parts[#parts + 1] = key_text(k) .. " = " .. vt
    end
  end
  seen[t] = nil
  return "{" .. table.concat(parts, ", ") .. "}"
end

-- A value as a message shows it: integers in hex and decimal, strings
-- quoted, memlua errors by their text, tables by their contents.
function show(v)
  local t = type(v)
  if math.type(v) == "integer" then
    if v < 0 then return ("%d (0x%x)"):format(v, v) end
    return ("0x%x (%d)"):format(v, v)
  elseif t == "number" then
    local s = tostring(v)
    if tonumber(s) ~= v and v == v then s = ("%.17g"):format(v) end
    return s
  elseif t == "string" then
    return show_string(v)
  elseif t == "table" then
    if is_memlua_error(v) then return "error " .. show_string(tostring(v)) end
    return show_table(v, 1, {})
  end
  return tostring(v)
end
M.show = show

---------------------------------------------------------------- where

local ctx -- the file being run: its source, the test running, options

-- "file:line" of the first frame of the test file at or above `level`,
-- else of the first Lua frame that is not the runner's.
local function where(level)
  local fallback
  level = level + 1
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then break end
    if info.currentline > 0 and info.source ~= SELF then
      local here = info.short_src .. ":" .. info.currentline
      if ctx and info.source == ctx.source then return here end
      fallback = fallback or here
    end
    level = level + 1
  end
  return fallback
end

local function fail(message, expected, actual, prefix)
  if prefix ~= nil then message = tostring(prefix) .. ": " .. message end
  error(setmetatable({
    message = message,
    expected = expected,
    actual = actual,
    at = where(1),
  }, FAIL), 0)
end

---------------------------------------------------------------- deep compare

local function is_nan(v) return v ~= v end

local function same_value(a, b)
  return a == b or (type(a) == "number" and type(b) == "number" and is_nan(a) and is_nan(b))
end

-- Every key where `want` and `got` differ, as {path, want, got}.
local function diff(want, got, path, out, seen)
  if seen[want] == got then return out end
  seen[want] = got
  local keys, known = {}, {}
  for _, k in ipairs(sorted_keys(want)) do keys[#keys + 1] = k; known[k] = true end
  for _, k in ipairs(sorted_keys(got)) do
    if not known[k] then keys[#keys + 1] = k end
  end
  for _, k in ipairs(keys) do
    local w, g = rawget(want, k), rawget(got, k)
    local p = path == "" and key_text(k) or (key_text(k):sub(1, 1) == "[" and path .. key_text(k) or path .. "." .. key_text(k))
    if type(w) == "table" and type(g) == "table" then
      diff(w, g, p, out, seen)
    elseif not same_value(w, g) then
      out[#out + 1] = { p, w, g }
    end
  end
  return out
end

local function diff_text(list)
  local lines = { ("tables differ at %d key%s:"):format(#list, #list == 1 and "" or "s") }
  for i, d in ipairs(list) do
    if i > 10 then
      lines[#lines + 1] = ("  ... and %d more"):format(#list - 10)
      break
    end
    local w = d[2] == nil and "nothing" or show(d[2])
    local g = d[3] == nil and "nothing" or show(d[3])
    lines[#lines + 1] = ("  %s: expected %s, got %s"):format(d[1], w, g)
  end
  return table.concat(lines, "\n")
end

local function deep_same(want, got)
  if type(want) == "table" and type(got) == "table" then
    return #diff(want, got, "", {}, {}) == 0
  end
  return same_value(want, got)
end

---------------------------------------------------------------- assertions

-- The message of an error value, without the "file:line: " a string
-- error gets.
local function error_text(e)
  if type(e) == "string" then return (e:gsub("^[^:\n]+:%d+: ", "", 1)) end
  if is_memlua_error(e) then return tostring(e) end
  return e
end

-- Each assertion: function(negated, ...) that returns normally when it
-- holds, or calls fail.
local ASSERTIONS = {}

function ASSERTIONS.equal(neg, want, got, msg)
  local holds = same_value(want, got)
  if holds == not neg then return end
  if neg then
    fail("expected a value other than " .. show(want), "not " .. show(want), show(got), msg)
  end
  local m = ("expected %s, got %s"):format(show(want), show(got))
  if type(want) == "table" and type(got) == "table" then
    local d = diff(want, got, "", {}, {})
    if #d == 0 then
      m = "expected the very table " .. show(want) .. ", got an equal but different one (assert.same compares contents)"
    else
      m = "expected the very table, got another one; " .. diff_text(d)
    end
  elseif math.type(want) ~= math.type(got) and tostring(want) == tostring(got) then
    m = m .. (" (%s vs %s)"):format(math.type(want) or type(want), math.type(got) or type(got))
  end
  fail(m, show(want), show(got), msg)
end
ASSERTIONS.equals = ASSERTIONS.equal

function ASSERTIONS.same(neg, want, got, msg)
  if deep_same(want, got) == not neg then return end
  if neg then
    fail("expected contents other than " .. show(want), "not " .. show(want), show(got), msg)
  end
  if type(want) == "table" and type(got) == "table" then
    fail(diff_text(diff(want, got, "", {}, {})), show(want), show(got), msg)
  end
  fail(("expected %s, got %s"):format(show(want), show(got)), show(want), show(got), msg)
end

local function truth(name, test, wanted)
  ASSERTIONS[name] = function(neg, v, msg)
    if (not not test(v)) == not neg then return end
    local want = (neg and "not " or "") .. wanted
    fail(("expected %s, got %s"):format(want, show(v)), want, show(v), msg)
  end
end
truth("truthy", function(v) return v end, "a truthy value")
truth("falsy", function(v) return not v end, "a falsy value (nil or false)")
truth("true", function(v) return v == true end, "true")
truth("false", function(v) return v == false end, "false")
truth("nil", function(v) return v == nil end, "nil")

function ASSERTIONS.near(neg, want, got, tolerance, msg)
  if type(want) ~= "number" or type(got) ~= "number" or type(tolerance) ~= "number" then
    error("assert.near: numbers expected (want, got, tolerance)", 3)
  end
  if (math.abs(want - got) <= tolerance) == not neg then return end
  local w = (neg and "not " or "") .. ("%s +- %s"):format(show(want), show(tolerance))
  fail(("expected %s, got %s"):format(w, show(got)), w, show(got), msg)
end

function ASSERTIONS.matches(neg, pattern, s, init, plain, msg)
  if type(s) ~= "string" and type(s) ~= "number" then
    fail(("expected a string matching %s, got %s"):format(show(pattern), show(s)), "match of " .. show(pattern), show(s), msg)
  end
  if (string.find(tostring(s), pattern, init, plain) ~= nil) == not neg then return end
  local w = (neg and "no " or "") .. "match of " .. show(pattern)
  fail(("expected %s, got %s"):format(w, show(s)), w, show(s), msg)
end
ASSERTIONS.match = ASSERTIONS.matches

-- assert.error(fn [, want [, msg]]): fn raises (an error equal to `want`
-- when given: a string compared without its "file:line: ", a table by
-- contents).
function ASSERTIONS.error(neg, fn, want, msg)
  if type(fn) ~= "function" then error("assert.error: a function expected, got " .. type(fn), 3) end
  local ok, e = pcall(fn)
  if neg then
    if ok then return end
    fail("expected no error, got " .. show(error_text(e)), "no error", show(error_text(e)), msg)
  end
  if ok then fail("expected an error, but the call succeeded", want == nil and "an error" or show(want), "no error", msg) end
  if want == nil or deep_same(want, error_text(e)) then return end
  fail(("expected the error %s, got %s"):format(show(want), show(error_text(e))), show(want), show(error_text(e)), msg)
end
ASSERTIONS.errors = ASSERTIONS.error

-- assert.error_matches(fn, pattern [, init [, plain [, msg]]]).
function ASSERTIONS.error_matches(neg, fn, pattern, init, plain, msg)
  if type(fn) ~= "function" then error("assert.error_matches: a function expected, got " .. type(fn), 3) end
  local ok, e = pcall(fn)
  if ok then
    if neg then return end
    fail("expected an error matching " .. show(pattern) .. ", but the call succeeded", "match of " .. show(pattern), "no error", msg)
  end
  local text = tostring(error_text(e))
  if (text:find(pattern, init, plain) ~= nil) == not neg then return end
  local w = (neg and "an error not matching " or "an error matching ") .. show(pattern)
  fail(("expected %s, got %s"):format(w, show(text)), w, show(text), msg)
end

-- busted's chains: `assert.are.equal`, `assert.is_not.same`,
-- `assert.is_not_nil`, `assert.has_no.errors`: the words between are
-- decoration, "not"/"no" negate.
local NOOP = { is = true, are = true, has = true, was = true, does = true, to = true, be = true }
local NEGATE = { ["not"] = true, no = true }
local chain_mt = {}

local function lookup(state, key)
  local neg = state.neg
  local rest = {}
  for word in tostring(key):gmatch("[^_]+") do
    if #rest == 0 and NOOP[word] then
      -- decoration
    elseif #rest == 0 and NEGATE[word] then
      neg = not neg
    else
      rest[#rest + 1] = word
    end
  end
  if #rest == 0 then return setmetatable({ neg = neg }, chain_mt) end
  local name = table.concat(rest, "_")
  local check = ASSERTIONS[name]
  if not check then error(("assert.%s: no such assertion"):format(key), 2) end
  return function(...) return check(neg, ...) end
end
chain_mt.__index = lookup

local lua_assert = assert
local assert_mt = {
  __index = function(_, key) return lookup({ neg = false }, key) end,
  -- `assert(v, msg)` as Lua's, but a failure is a failed assertion.
  __call = function(_, v, msg, ...)
    if not v then
      fail(msg ~= nil and tostring(msg) or "assertion failed!", "a truthy value", show(v))
    end
    return v, msg, ...
  end,
}
M.assert = setmetatable({}, assert_mt)
M.lua_assert = lua_assert

-- Errno names expect_error knows; the runner sets the list from the
-- runtime's.
local ERRNOS = {}
function M.set_errnos(list)
  for _, name in ipairs(list) do ERRNOS[name] = true end
end

-- expect_error(fn, "EFAULT", ...): fn(...) raises a memlua error with that
-- errno; returns the error value (e.addr, e.op, e.done...).
function M.expect_error(fn, errno, ...)
  if type(fn) ~= "function" and not (getmetatable(fn) or {}).__call then
    error(("bad argument #1 to 'expect_error' (function expected, got %s)"):format(type(fn)), 2)
  end
  if type(errno) ~= "string" or (next(ERRNOS) and not ERRNOS[errno]) then
    error(("bad argument #2 to 'expect_error' (an errno name such as \"EFAULT\" expected, got %s)"):format(show(errno)), 2)
  end
  local ok, e = pcall(fn, ...)
  if ok then fail(("expected %s, but the call succeeded"):format(errno), errno, "no error") end
  if not is_memlua_error(e) then
    fail(("expected %s, got %s"):format(errno, show(e)), errno, show(e))
  end
  if e.errno ~= errno then
    fail(("expected %s, got %s"):format(errno, tostring(e)), errno, e.errno)
  end
  return e
end

---------------------------------------------------------------- declaring

local function check_decl(fname, name, fn, need_fn)
  if type(name) ~= "string" then
    error(("bad argument #1 to '%s' (string expected, got %s)"):format(fname, type(name)), 3)
  end
  if (need_fn or fn ~= nil) and type(fn) ~= "function" then
    error(("bad argument #2 to '%s' (function expected, got %s)"):format(fname, type(fn)), 3)
  end
  if not ctx then error(fname .. "() outside a test file run by memlua test", 3) end
  if ctx.running then error(fname .. "() inside a test: declare tests in describe blocks", 3) end
end

function M.describe(name, fn)
  check_decl("describe", name, fn, true)
  local block = { name = name, parent = ctx.block, before = {}, after = {} }
  local outer = ctx.block
  ctx.block = block
  fn()
  ctx.block = outer
end

function M.it(name, fn)
  check_decl("it", name, fn, true)
  ctx.tests[#ctx.tests + 1] = { name = name, block = ctx.block, fn = fn }
end

-- pending(name [, fn]) declares a test not written yet; inside a test,
-- pending(reason) stops it as pending.
function M.pending(name, fn)
  if ctx and ctx.running then
    error(setmetatable({ reason = tostring(name or "pending") }, TODO), 0)
  end
  check_decl("pending", name, fn, false)
  ctx.tests[#ctx.tests + 1] = { name = name, block = ctx.block, pending = true }
end

-- skip(reason): the running test stops here, skipped.
function M.skip(reason)
  if not (ctx and ctx.running) then error("skip() outside a test", 2) end
  error(setmetatable({ reason = reason ~= nil and tostring(reason) or "skipped" }, SKIP), 0)
end

local function hook_decl(kind)
  return function(fn)
    if type(fn) ~= "function" then
      error(("bad argument #1 to '%s' (function expected, got %s)"):format(kind, type(fn)), 2)
    end
    if not ctx then error(kind .. "() outside a test file run by memlua test", 2) end
    if ctx.running then error(kind .. "() inside a test", 2) end
    local list = ctx.block[kind == "before_each" and "before" or "after"]
    list[#list + 1] = fn
  end
end
M.before_each = hook_decl("before_each")
M.after_each = hook_decl("after_each")

---------------------------------------------------------------- running

local function path_of(test)
  local names = { test.name }
  local b = test.block
  while b and b.name do
    table.insert(names, 1, b.name)
    b = b.parent
  end
  return names
end

local function blocks_of(test)
  local chain = {}
  local b = test.block
  while b do
    table.insert(chain, 1, b)
    b = b.parent
  end
  return chain
end

-- A timeout, at the line the test stood at (not where the runner's own
-- code happened to be when time ran out).
local function timeout_outcome()
  local _, at = ctx.timed_out()
  if at and at:find(SELF:sub(2), 1, true) then at = nil end
  return { status = "error", kind = "timeout", message = ctx.timeout_message, at = at }
end

-- The message handler: what went wrong, as an outcome.
local function handler(e)
  local mt = getmetatable(e)
  if mt == FAIL then
    return { status = "fail", message = e.message, at = e.at, expected = e.expected, actual = e.actual }
  elseif mt == SKIP then
    return { status = "skip", message = e.reason }
  elseif mt == TODO then
    return { status = "todo", message = e.reason }
  end
  if ctx.timed_out and ctx.timed_out() then return timeout_outcome() end
  local at = where(2)
  local message
  if type(e) == "string" then
    message = e
  elseif is_memlua_error(e) then
    message = (at and at .. ": " or "") .. tostring(e)
  else
    -- As lua.c reports it: an object by its __tostring, else its type.
    local mt = getmetatable(e)
    local ok, text = false, nil
    if type(mt) == "table" and mt.__tostring then ok, text = pcall(tostring, e) end
    message = ok and type(text) == "string" and text or ("(error object is a " .. type(e) .. " value)")
  end
  local stack = debug.traceback("", 2):gsub("^\n", "")
  return { status = "error", message = message, at = at, stack = stack }
end

-- fn run in a coroutine of its own under the timeout: nil when it
-- returned, else the outcome. The runner's hook yields the coroutine when
-- time runs out (so a test's own pcall cannot catch it).
local function guarded(fn)
  local co = coroutine.create(function()
    if ctx.arm then ctx.arm(ctx.timeout) end
    return xpcall(fn, handler)
  end)
  local ok, xok, outcome = coroutine.resume(co)
  -- Time ran out, whatever became of the coroutine: the hook may have
  -- yielded one the test made, which then returned as if it had ended.
  local timed = ctx.timed_out and ctx.timed_out()
  if coroutine.status(co) == "suspended" then
    coroutine.close(co)
    if not timed then
      return { status = "error", message = "the test yielded (coroutine.yield outside a coroutine of its own)" }
    end
  end
  if timed then return timeout_outcome() end
  if not ok then return { status = "error", message = tostring(xok) } end
  if xok then return nil end
  -- An error in the handler itself (a stack overflow leaves it no room).
  if type(outcome) ~= "table" then return { status = "error", message = tostring(outcome) } end
  -- The file's own stack frames only: the runner's add nothing.
  if outcome.stack then
    local lines = {}
    for line in outcome.stack:gmatch("[^\n]+") do
      -- C frames are the API's trampolines, which change with its
      -- implementation and say nothing about the test.
      if not line:find(SELF:sub(2), 1, true) and not line:find("^%s*%[C%]:") then
        lines[#lines + 1] = line
      end
    end
    outcome.stack = table.concat(lines, "\n")
  end
  return outcome
end

local function capture_print(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  local text = table.concat(parts, "\t") .. "\n"
  if ctx and ctx.running then
    ctx.output[#ctx.output + 1] = text
  else
    io.stderr:write(text)
  end
end

local function run_test(test)
  ctx.running = test
  ctx.output = {}
  if ctx.seed then math.randomseed(ctx.seed) end
  local start = host.monotonic_ns()
  local outcome
  if test.pending then
    outcome = { status = "todo", message = "pending" }
  else
    local chain = blocks_of(test)
    for _, b in ipairs(chain) do
      for _, fn in ipairs(b.before) do
        outcome = outcome or guarded(fn)
      end
    end
    outcome = outcome or guarded(test.fn)
    -- Clean-up always runs; its failure outranks a skip, not a failure.
    for i = #chain, 1, -1 do
      for _, fn in ipairs(chain[i].after) do
        local o = guarded(fn)
        if o and (outcome == nil or outcome.status == "skip" or outcome.status == "todo") then outcome = o end
      end
    end
  end
  outcome = outcome or { status = "pass" }
  outcome.time = (host.monotonic_ns() - start) / 1e9
  outcome.output = table.concat(ctx.output)
  ctx.running = nil
  return outcome
end

local GLOBALS = { "describe", "it", "pending", "skip", "before_each", "after_each", "expect_error" }

-- Runs one test file. `opts`:
--   chunk      the file, loaded (its chunk name "@path")
--   name       the file's name in results
--   report     function(result): called with each result, in order
--   filter     a Lua pattern the full name "file > describe > it" must match
--   list       report the tests (status "listed") without running them
--   seed       math.randomseed before the file and before each test
--   timeout    seconds, with `arm(seconds)` (set the deadline on the
--              calling coroutine) and `timed_out()` -> fired, "file:line"
-- Each result: {name = {describe..., it}, status = "pass"|"fail"|"error"|
-- "skip"|"todo"|"listed", kind ("timeout"), message, at, expected,
-- actual, stack, output, time}.
function M.run_file(opts)
  ctx = {
    source = debug.getinfo(opts.chunk, "S").source,
    tests = {},
    block = { before = {}, after = {} },
    seed = opts.seed,
    timeout = opts.timeout,
    arm = opts.timeout and opts.arm or nil,
    timed_out = opts.timeout and opts.timed_out or nil,
    timeout_message = opts.timeout and ("timeout: still running after %s s"):format(opts.timeout) or nil,
    output = {},
  }
  for _, g in ipairs(GLOBALS) do _G[g] = M[g] end
  _G.assert = M.assert
  _G.print = capture_print
  -- One file must not end the run of all the others.
  if type(_G.os) == "table" then
    _G.os.exit = function()
      error("os.exit() would end memlua test itself; a test fails with an assertion or error()", 2)
    end
  end
  if opts.seed then math.randomseed(opts.seed) end

  local loaded = guarded(opts.chunk)
  if loaded then
    if loaded.status == "skip" or loaded.status == "todo" then
      loaded = { status = "error", message = "skip() or pending(reason) outside a test", at = loaded.at }
    end
    loaded.name = { "(load)" }
    loaded.time = 0
    opts.report(loaded)
    return
  end
  for _, test in ipairs(ctx.tests) do
    local path = path_of(test)
    local full = opts.name .. " > " .. table.concat(path, " > ")
    if opts.filter == nil or full:find(opts.filter) then
      if opts.list then
        opts.report({ name = path, status = "listed" })
      else
        local outcome = run_test(test)
        outcome.name = path
        opts.report(outcome)
      end
    end
  end
end

return M
