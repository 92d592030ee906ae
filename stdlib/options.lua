-- memlua.options: option tables that refuse keys they do not know, so a
-- misspelt `timout` or `grup` is an error instead of a silent default.
-- The stdlib's modules check their options with it; scripts may too:
--
--   local options = require "memlua.options"
--   options.check(opts, { "timeout", "width" }, "mytool.run")

local M = {}

--- Raises "bad option 'k' to 'fname' (unknown; expected a, b, c)" for the
--- first key of `o` (sorted) that is not in the array `known`, and an
--- error when `o` is neither nil nor a table. `level` is
--- the error level as seen by the caller of the checking function
--- (default 2: the caller of the function that calls check).
function M.check(o, known, fname, level)
  if o == nil then return end
  if type(o) ~= "table" then
    error(("bad options to '%s' (table expected, got %s)"):format(fname, type(o)), (level or 2) + 1)
  end
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  local unknown = {}
  for k in pairs(o) do
    if not set[k] then unknown[#unknown + 1] = tostring(k) end
  end
  if #unknown == 0 then return end
  table.sort(unknown)
  local names = { table.unpack(known) }
  table.sort(names)
  error(("bad option '%s' to '%s' (unknown; expected %s)"):format(unknown[1], fname, table.concat(names, ", ")),
    (level or 2) + 1)
end

return M
