-- memlua.memtest: memory tests over a physical (or kernel) range or a
-- buffer: walking ones and zeros, address-in-address and March C-. Every
-- failing address is returned with the expected and actual value.
--
--   local memtest = require "memlua.memtest"
--   local r = memtest.run { addr = 0x1000000, len = 1 << 20 }   -- March C-
--   local r = memtest.run { buffer = mem.alloc(65536), algorithms = "all" }
--   if not r.ok then for _, f in ipairs(r.failures) do print(hex(f.addr), hex(f.expected), hex(f.actual)) end end
--
-- Options: `addr` + `len` (+ `space`, "phys" or "kernel") or `buffer`;
-- `algorithms` ("all" or a list of "walking1", "walking0", "address",
-- "march"; default {"march"}); `word` (64 default, or 32 bits);
-- `passes` for the walking tests (default: the word's bit count, so every
-- word holds every single-bit pattern once); `max_failures` (default 1000;
-- the count goes on past it); `on_failure(f)` called with each failure as
-- it is found, every one whatever max_failures (a tool prints them as
-- they come); `progress(done, total, algorithm)` called
-- every 64 Ki word operations; `block` (bytes) runs March C- a block at a
-- time with bulk reads and writes: much faster, but within a block all of
-- an element's reads come before its writes, so a coupling fault between
-- two words of one block can go unseen (see the README).
--
-- The result: {ok=, failures={{addr=, expected=, actual=, algorithm=,
-- element=}...}, failure_count=, ops= (word operations), elapsed_ns=,
-- algorithms={...}, addr=, len=, word=}.

local M = {}

M.ALGORITHMS = { "walking1", "walking0", "address", "march" }

local CHUNK = 1 << 16   -- words between progress calls

local function target_of(o)
  if o.buffer ~= nil then
    local b = o.buffer
    return b, 0, b.len, b.addr
  end
  local addr, len = math.tointeger(o.addr), math.tointeger(o.len)
  if not addr then error("bad option 'addr' to 'memtest.run' (address expected, got " .. tostring(o.addr) .. ")", 3) end
  if not len or len <= 0 then error("bad option 'len' to 'memtest.run' (positive length expected, got " .. tostring(o.len) .. ")", 3) end
  local api = (o.space == "kernel") and kmem or mem
  return api.map(addr, len), 0, len, addr
end

local OPTIONS = { "addr", "len", "buffer", "space", "algorithms", "word", "passes", "max_failures",
  "progress", "block", "on_failure" }

--- Runs the tests; see the top of the file.
function M.run(o)
  if type(o) ~= "table" then error("bad argument #1 to 'memtest.run' (table expected, got " .. type(o) .. ")", 2) end
  require("memlua.options").check(o, OPTIONS, "memtest.run")
  local word = o.word or 64
  if word ~= 32 and word ~= 64 then error("bad option 'word' to 'memtest.run' (32 or 64 expected)", 2) end
  local algs = o.algorithms or { "march" }
  if algs == "all" then algs = M.ALGORITHMS end
  if type(algs) == "string" then algs = { algs } end
  for _, a in ipairs(algs) do
    if not M[a] then
      error(("bad option 'algorithms' to 'memtest.run' (unknown algorithm '%s'; known: %s)"):format(
        tostring(a), table.concat(M.ALGORITHMS, ", ")), 2)
    end
  end
  local t, first, len, base = target_of(o)
  local wb = word // 8
  if base % wb ~= 0 or len % wb ~= 0 then
    error(("bad option 'len' to 'memtest.run' (address and length must be multiples of %d bytes)"):format(wb), 2)
  end
  -- The last word must be there before a run that could take hours
  -- reaches it: a range past the end of memory fails now, with the
  -- backend's error (EFAULT on the simulator and on a --mem file).
  t["read" .. word](t, len - wb)
  local host = require "memlua.host"
  local r = { ok = true, failures = {}, failure_count = 0, ops = 0, algorithms = algs,
    addr = base, len = len, word = word }
  local max = o.max_failures or 1000
  local ctx = {
    t = t, base = base, len = len, word = word, wb = wb,
    rd = t["read" .. word], wr = t["write" .. word],
    ones = word == 64 and -1 or 0xffffffff,
    passes = o.passes or word, block = o.block,
    done = 0, total = 0, progress = o.progress,
  }
  local words = len // wb
  for _, a in ipairs(algs) do ctx.total = ctx.total + M.cost[a](ctx, words) end
  local on_failure = o.on_failure
  function ctx.fail(off, expected, actual, alg, element)
    r.ok = false
    r.failure_count = r.failure_count + 1
    local keep = #r.failures < max
    if keep or on_failure then
      local f = { addr = base + off, expected = expected, actual = actual, algorithm = alg, element = element }
      if keep then r.failures[#r.failures + 1] = f end
      if on_failure then on_failure(f) end
    end
  end
  function ctx.tick(n, alg)
    ctx.done = ctx.done + n
    if ctx.progress then ctx.progress(ctx.done, ctx.total, alg) end
  end
  local start = host.monotonic_ns()
  for _, a in ipairs(algs) do M[a](ctx) end
  r.elapsed_ns = host.monotonic_ns() - start
  r.ops = ctx.done
  return r
end

-- Each algorithm: a function of ctx, and its cost in word operations.
M.cost = {}

--- One sweep: f(off) for each word, ascending or descending, with
--- progress calls every CHUNK words.
local function sweep(ctx, down, ops_per_word, alg, f)
  local wb, last = ctx.wb, ctx.len - ctx.wb
  local step = CHUNK * wb
  if not down then
    for c = 0, last, step do
      f(c, math.min(c + step - wb, last), wb)
      ctx.tick(ops_per_word * (math.min(c + step, ctx.len) - c) // wb, alg)
    end
  else
    local c = last - (last % step)
    while c >= 0 do
      f(math.min(c + step - wb, last), c, -wb)
      ctx.tick(ops_per_word * (math.min(c + step, ctx.len) - c) // wb, alg)
      c = c - step
    end
  end
end

local function walking(ctx, zeros, alg)
  local t, rd, wr, W = ctx.t, ctx.rd, ctx.wr, ctx.word
  local mask = ctx.ones
  for pass = 0, ctx.passes - 1 do
    local function pat(off)
      local p = 1 << ((off // ctx.wb + pass) % W)
      if zeros then p = ~p & mask end
      return p
    end
    sweep(ctx, false, 1, alg, function(a, b, s)
      for off = a, b, s do wr(t, off, pat(off)) end
    end)
    sweep(ctx, false, 1, alg, function(a, b, s)
      for off = a, b, s do
        local v, p = rd(t, off), pat(off)
        if v ~= p then ctx.fail(off, p, v, alg, "pass " .. pass) end
      end
    end)
  end
end

function M.walking1(ctx) walking(ctx, false, "walking1") end
function M.walking0(ctx) walking(ctx, true, "walking0") end
M.cost.walking1 = function(ctx, words) return 2 * ctx.passes * words end
M.cost.walking0 = M.cost.walking1

--- Address in address: each word holds its own address, then its
--- complement, so an address line stuck or shorted shows as a wrong value.
function M.address(ctx)
  local t, rd, wr, base, mask = ctx.t, ctx.rd, ctx.wr, ctx.base, ctx.ones
  for _, inv in ipairs { false, true } do
    local function pat(off)
      local p = (base + off) & mask
      if inv then p = ~p & mask end
      return p
    end
    sweep(ctx, false, 1, "address", function(a, b, s)
      for off = a, b, s do wr(t, off, pat(off)) end
    end)
    sweep(ctx, false, 1, "address", function(a, b, s)
      for off = a, b, s do
        local v, p = rd(t, off), pat(off)
        if v ~= p then ctx.fail(off, p, v, "address", inv and "complement" or "address") end
      end
    end)
  end
end
M.cost.address = function(_, words) return 4 * words end

--- March C-: ⇕(w0); ⇑(r0,w1); ⇑(r1,w0); ⇓(r0,w1); ⇓(r1,w0); ⇕(r0).
--- 10 operations per word; finds stuck-at, transition, address-decoder
--- and unlinked coupling faults.
function M.march(ctx)
  if ctx.block then return M.march_block(ctx) end
  local t, rd, wr, ONE = ctx.t, ctx.rd, ctx.wr, ctx.ones
  local fail = ctx.fail
  sweep(ctx, false, 1, "march", function(a, b, s)
    for off = a, b, s do wr(t, off, 0) end
  end)
  local elements = {
    { false, 0, ONE, "up r0,w1" }, { false, ONE, 0, "up r1,w0" },
    { true, 0, ONE, "down r0,w1" }, { true, ONE, 0, "down r1,w0" },
  }
  for _, e in ipairs(elements) do
    local want, put, name = e[2], e[3], e[4]
    sweep(ctx, e[1], 2, "march", function(a, b, s)
      for off = a, b, s do
        local v = rd(t, off)
        if v ~= want then fail(off, want, v, "march", name) end
        wr(t, off, put)
      end
    end)
  end
  sweep(ctx, false, 1, "march", function(a, b, s)
    for off = a, b, s do
      local v = rd(t, off)
      if v ~= 0 then fail(off, 0, v, "march", "r0") end
    end
  end)
end
M.cost.march = function(_, words) return 10 * words end

--- March C- a block at a time (ctx.block bytes) with bulk transfers.
function M.march_block(ctx)
  local t, len, wb = ctx.t, ctx.len, ctx.wb
  local bs = math.tointeger(ctx.block)
  if not bs or bs < wb or bs % wb ~= 0 then error("bad option 'block' to 'memtest.run' (a multiple of the word size expected)", 4) end
  local zeros, ones = ("\0"):rep(bs), ("\255"):rep(bs)
  local fmt = wb == 8 and "<i8" or "<I4"
  local function check(off, got, want_s, want, name)
    if got == want_s:sub(1, #got) then return end
    for i = 1, #got, wb do
      local v = string.unpack(fmt, got, i)
      if v ~= want then ctx.fail(off + i - 1, want, v, "march", name) end
    end
  end
  local function blocks(down, f)
    local n = (len + bs - 1) // bs
    for k = 0, n - 1 do
      local i = down and (n - 1 - k) or k
      local off = i * bs
      local size = math.min(bs, len - off)
      f(off, size)
    end
  end
  local ONE = ctx.ones
  local function tick(ops, size) ctx.tick(ops * (size // wb), "march") end
  blocks(false, function(off, size) t:write(off, zeros:sub(1, size)); tick(1, size) end)
  for _, e in ipairs {
    { false, zeros, 0, ones, "up r0,w1" }, { false, ones, ONE, zeros, "up r1,w0" },
    { true, zeros, 0, ones, "down r0,w1" }, { true, ones, ONE, zeros, "down r1,w0" },
  } do
    blocks(e[1], function(off, size)
      check(off, t:read(off, size), e[2], e[3], e[5])
      t:write(off, size == bs and e[4] or e[4]:sub(1, size))
      tick(2, size)
    end)
  end
  blocks(false, function(off, size) check(off, t:read(off, size), zeros, 0, "r0"); tick(1, size) end)
end

return M
