-- The assertion helpers every Lua suite gets (tests/lua_suites.rs and
-- tests/lua_native.rs): check, eq, raises, argerr. `fail(msg, level)`
-- records a failure with the file and line `level` frames up.
local fail = ...
local function show(v)
  if math.type(v) == "integer" then return ("%d (0x%x)"):format(v, v) end
  if type(v) == "string" then return ("%q"):format(v) end
  return tostring(v)
end
function check(cond, msg)
  if not cond then fail(msg or "check failed", 2) end
  return cond
end
function eq(got, want, msg)
  if got ~= want then
    fail(("%sexpected %s, got %s"):format(msg and (msg .. ": ") or "", show(want), show(got)), 2)
  end
  return got == want
end
-- raises("EINVAL", f, ...): f must raise an error table with that errno.
function raises(errno, f, ...)
  local ok, e = pcall(f, ...)
  if ok then fail("expected " .. errno .. ", but the call succeeded", 2); return nil end
  if type(e) ~= "table" or e.errno ~= errno then
    fail("expected " .. errno .. ", got " .. show(e), 2)
  end
  return e
end
-- argerr("text", f, ...): f must raise a plain string containing text.
function argerr(text, f, ...)
  local ok, e = pcall(f, ...)
  if ok then fail("expected an argument error, but the call succeeded", 2); return nil end
  if type(e) ~= "string" or not e:find(text, 1, true) then
    fail(("expected an error containing %q, got %s"):format(text, show(e)), 2)
  end
  return e
end
