-- memlua's stdlib searcher, second after package.preload as Lua's own are
-- ordered (compiled to bytecode at build time; see bindings/build.rs).
-- find(short) gives a module's loaded chunk and where it is from, false and
-- the load error, or nil when memlua's stdlib has no such module.
local find, searchers = ...
table.insert(searchers, 2, function(name)
  local short = name:match("^memlua%.(.+)$")
  if not short then return nil end
  local f, from = find(short)
  if f == nil then return "no module '" .. name .. "' in memlua's stdlib" end
  if not f then
    error(("error loading module '%s' from memlua's stdlib:\n\t%s"):format(name, from), 0)
  end
  return f, from
end)
