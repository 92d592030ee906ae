-- memrange.scoped(fn, ...): runs fn and then gives back every memory range
-- descriptor it changed, also when fn raised an error, which is then
-- raised again, unchanged. open/close are the session's journal
-- (bindings/src/memrange_api.rs); the standard functions are the ones the
-- state had when memlua started, so a script replacing them changes
-- nothing here. Compiled to bytecode at build time (bindings/build.rs).
local open, close, pcall, pack, unpack, error, type, select = ...
return function(...)
  local fn = ...
  if type(fn) ~= "function" then
    local got = select("#", ...) == 0 and "no value" or type(fn)
    error("bad argument #1 to 'scoped' (function expected, got " .. got .. ")", 2)
  end
  local id = open()
  local r = pack(pcall(...))
  close(id)
  if not r[1] then error(r[2], 0) end
  return unpack(r, 2, r.n)
end
