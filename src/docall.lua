-- Wraps calls so errors come back as lua.c's messages: a string, or an
-- error value's __tostring with the script position it was raised at, then
-- a traceback. Compiled to bytecode at build time (build.rs).
local xpcall, tostring, type, getmetatable, traceback, where = ...
local function handler(msg)
  if type(msg) ~= "string" then
    local mt = getmetatable(msg)
    if mt and mt.__tostring then
      -- Error values carry no position; name the script line that raised it.
      local pos = where()
      msg = (pos or "") .. tostring(msg)
    elseif msg == nil then
      msg = "nil"
    else
      msg = "(error object is a " .. type(msg) .. " value)"
    end
  end
  return traceback(msg, 2)
end
return function(f, ...) return xpcall(f, handler, ...) end
