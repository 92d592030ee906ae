-- Wraps calls so errors come back as lua.c's messages (its msghandler): a
-- string or a number as it is, an object's __tostring text alone, any other
-- value as "(error object is a T value)", each but the __tostring text
-- followed by a traceback. memlua's own error values are the exception:
-- their text gets the script position they were raised at, then a
-- traceback. Compiled to bytecode at build time (build.rs).
--
-- `handler` stands where lua.c's msghandler does and calls __tostring
-- itself, unprotected, as luaL_callmeta does: the metamethod sees the
-- same stack (debug.getinfo(4) is the frame that raised the error), and
-- an error inside it is reported in place of the object, as in lua.c.
local xpcall, rawget, tostring, type, getmetatable, traceback, where, is_memlua_error = ...
local function handler(msg)
  local t = type(msg)
  if t == "number" then
    msg = tostring(msg)
  elseif t ~= "string" then
    if is_memlua_error(msg) then
      msg = (where() or "") .. tostring(msg)
    else
      local mt = getmetatable(msg)
      local f = type(mt) == "table" and rawget(mt, "__tostring") or nil
      if f ~= nil then
        local text = f(msg)
        if type(text) == "string" then return text end
      end
      msg = "(error object is a " .. t .. " value)"
    end
  end
  return traceback(msg, 2)
end
return function(f, ...) return xpcall(f, handler, ...) end
