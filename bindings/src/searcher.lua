-- memlua's stdlib searcher, second after package.preload as Lua's own are
-- ordered (compiled to bytecode at build time; see bindings/build.rs).
-- find(short) gives a module's code: the compiled-in bytecode and its source
-- (loaded instead should this Lua refuse the bytecode), or an added
-- module's source.
local find, searchers, load = ...
table.insert(searchers, 2, function(name)
  local short = name:match("^memlua%.(.+)$")
  if not short then return nil end
  local code, source = find(short)
  if not code then return "no module '" .. name .. "' in memlua's stdlib" end
  local chunkname = "@stdlib/" .. short:gsub("%.", "/") .. ".lua"
  local f, err = load(code, chunkname, "bt")
  if not f and source then f, err = load(source, chunkname, "t") end
  if not f then
    error(("error loading module '%s' from memlua's stdlib:\n\t%s"):format(name, err), 0)
  end
  return f, chunkname:sub(2)
end)
