-- require "memlua.NAME": the stdlib loader, and package.path.

add_stdlib_module("testmod", "local M = {} M.answer = 42 return M")
local m = require "memlua.testmod"
eq(m.answer, 42)
eq(require "memlua.testmod", m, "loaded once")

add_stdlib_module("sub.deep", "return ...")
local name, where = require "memlua.sub.deep"
eq(name, "memlua.sub.deep", "the loader gets the module name")
eq(where, "stdlib/sub/deep.lua")

local ok, msg = pcall(require, "memlua.nothere")
check(not ok and msg:find("no module 'memlua.nothere' in memlua's stdlib", 1, true), tostring(msg))

add_stdlib_module("broken", "return {")
local ok2, msg2 = pcall(require, "memlua.broken")
check(not ok2 and msg2:find("error loading module 'memlua.broken' from memlua's stdlib:\n\tstdlib/broken.lua:1:", 1, true), tostring(msg2))

add_stdlib_module("fails", "local x = nil; return x.y")
local ok3, msg3 = pcall(require, "memlua.fails")
check(not ok3 and msg3:find("stdlib/fails.lua:1:", 1, true), "file and line: " .. tostring(msg3))

-- The user's data folder is on package.path.
check(package.path:find("memlua/?.lua", 1, true), "data folder on package.path: " .. package.path)

-- memlua.options: what the stdlib checks its option tables with.
local options = require "memlua.options"
options.check(nil, { "a" }, "t.f")
options.check({ a = 1 }, { "a", "b" }, "t.f")
argerr("bad option 'c' to 't.f' (unknown; expected a, b)", options.check, { a = 1, c = 2 }, { "b", "a" }, "t.f")
argerr("bad options to 't.f' (table expected, got string)", options.check, "x", { "a" }, "t.f")
