-- memlua.cli: what the bundled tools (scripts/) share: an option table
-- (spec) that getopt parses and --help, memlua's man page and its shell
-- completions are made from; getopt in the BSD manner, numbers parsed as
-- strtoull(s, &end, 0) does, JSON output, exit statuses with fixed
-- meanings (0 ok, 1 failure, 2 usage) and progress bars that draw on a
-- terminal only.

local M = {}

--- spec(t): a tool's options, the one table its parsing, its --help and
--- memlua's man page and completions come from. Fields: name, summary
--- (one line), usage (what follows `memlua NAME`), options, operands
--- ({NAME, text} pairs), notes (text after the options), commands (a
--- list of {name, usage=, help=, example=, options=} for a tool with
--- subcommands). An option is {"k", help=, example=} (a flag -k),
--- {"g", value="N", ...} (-g N) or {long="json", ...} (--json, which the
--- tool takes out itself with take_flag). Every option has a help text
--- and an example. `exit` replaces the exit status text (M.EXIT).
function M.spec(t)
  local function check(options, where)
    for _, o in ipairs(options or {}) do
      local name = o.long or o[1]
      assert(type(name) == "string", where .. ": an option without a name")
      assert(type(o.help) == "string" and type(o.example) == "string",
        where .. ": option " .. name .. " needs help and example")
    end
  end
  check(t.options, t.name)
  for _, c in ipairs(t.commands or {}) do check(c.options, t.name .. " " .. c[1]) end
  -- memlua --man and --completions load each tool with `describing` set
  -- to read its spec: stop the tool here, before it does anything.
  if M.describing then
    M.described = t
    error(M.describing, 0)
  end
  return t
end

M.EXIT = "Exit status: 0 success, 1 failure, 2 usage error."

--- Whether the arguments ask for help: `--help` or `-h` alone first.
function M.help_asked(args)
  return args[1] == "--help" or args[1] == "-h"
end

--- strtoull(s, &end, 0) with the whole string consumed: `0x` hex, a leading
--- 0 octal, else decimal. Returns the integer (64-bit pattern) or nil.
--- `strict` refuses a sign and leading blanks, as busybox's bb_strtoull.
function M.parse_uint(s, strict)
  if type(s) ~= "string" then return nil end
  local t = s
  if not strict then t = t:match("^%s*(.-)$") end
  local neg = false
  if not strict then
    local sign, rest = t:match("^([+-]?)(.*)$")
    neg, t = sign == "-", rest
  end
  local digits, base
  if t:match("^0[xX]%x+$") then digits, base = t:sub(3), 16
  elseif t:match("^0[0-7]*$") then digits, base = t, 8
  elseif t:match("^[1-9]%d*$") then digits, base = t, 10
  else return nil end
  local v = 0
  for k = 1, #digits do
    local d = tonumber(digits:sub(k, k), 16)
    -- Overflow check in 32-bit halves: v * base + d must stay below 2^64.
    local hi = (v >> 32) * base
    local lo = (v & 0xffffffff) * base + d
    if (hi >> 32) ~= 0 or ((hi & 0xffffffff) + (lo >> 32)) >> 32 ~= 0 then return nil end
    v = v * base + d
  end
  if neg then v = -v end
  return v
end

--- An unsigned decimal string of a 64-bit pattern.
function M.udec(v)
  if v >= 0 then return ("%d"):format(v) end
  local q = (v >> 1) // 5
  return ("%d%d"):format(q, v - q * 10)
end

--- The "0x..." text of a 64-bit address or value (nil stays nil): what
--- the tools' JSON holds for them, since a JSON number is a double and
--- cannot hold 0xffffffff81200000 exactly.
function M.hex(v)
  if v == nil then return nil end
  return ("0x%x"):format(v)
end

local function json_string(s)
  return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
    local map = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
    if map[c] then return map[c] end
    return ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function is_array(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  return n == #t and (n > 0 or getmetatable(t) == M.array_mt)
end

M.array_mt = {}
--- Marks a table as a JSON array even when empty.
function M.array(t) return setmetatable(t or {}, M.array_mt) end

--- JSON text of a Lua value: integers as unsigned decimals (64-bit
--- patterns; the tools give addresses and values as M.hex strings and
--- keep numbers for counts and sizes in bits), tables with 1..n keys as
--- arrays, others as objects with sorted keys; `nil` fields are left out.
function M.json(v)
  local ty = type(v)
  if ty == "nil" then return "null"
  elseif ty == "boolean" then return tostring(v)
  elseif ty == "number" then
    if math.type(v) == "integer" then return M.udec(v) end
    if v ~= v or v == math.huge or v == -math.huge then return "null" end
    return ("%.17g"):format(v)
  elseif ty == "string" then return json_string(v)
  elseif ty == "table" then
    local mt = getmetatable(v)
    if mt and mt.__tostring and mt ~= M.array_mt then
      -- An error value: its fields plus its text.
      local o = {}
      for k, x in pairs(v) do o[k] = x end
      o.text = tostring(v)
      return M.json(o)
    end
    local parts = {}
    if is_array(v) then
      for i = 1, #v do parts[i] = M.json(v[i]) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do
      local x = v[k]
      if x == nil then x = v[tonumber(k)] end
      parts[#parts + 1] = json_string(k) .. ":" .. M.json(x)
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  return json_string(tostring(v))
end

--- Removes every `flag` from args; whether one was there.
function M.take_flag(args, flag)
  local found, out = false, {}
  for _, a in ipairs(args) do
    if a == flag then found = true else out[#out + 1] = a end
  end
  for k = #args, 1, -1 do args[k] = nil end
  for k, a in ipairs(out) do args[k] = a end
  return found
end

--- Whether errors are JSON too: set by M.take_json.
M.json_mode = false

--- Removes every `--json` from args; whether one was there. From then on
--- M.fail and M.usage_error also print the error as JSON on stdout.
function M.take_json(args)
  M.json_mode = M.take_flag(args, "--json")
  return M.json_mode
end

--- The JSON error object for an error value (its errno, text, op and
--- address) or a message (with `errno`, default "EINVAL").
function M.error_json(e, errno)
  if type(e) == "table" and type(e.errno) == "string" then
    return { error = { errno = e.errno, message = tostring(e), op = e.op, addr = M.hex(math.tointeger(e.addr)) } }
  end
  return { error = { errno = errno or "EINVAL", message = tostring(e) } }
end

--- In --json mode, prints {"error": {...}} on stdout.
function M.json_error(e, errno)
  if M.json_mode then print(M.json(M.error_json(e, errno))) end
end

--- Ends the tool on a failure: "tool: error" on stderr (and the JSON
--- error in --json mode), exit status `code` (default 1).
function M.fail(tool, e, code, errno)
  io.stderr:write(tool, ": ", tostring(e), "\n")
  M.json_error(e, errno)
  M.exit(code or 1)
end

--- Ends the tool on a usage error: "tool: why" and the usage text on
--- stderr (and the JSON error, EINVAL, in --json mode), exit status 2.
function M.usage_error(tool, why, usage)
  io.stderr:write(tool, ": ", why, "\n", usage or "")
  M.json_error(why, "EINVAL")
  M.exit(2)
end

--- The script's arguments as an array (from `...` or the global `arg`).
function M.args(...)
  local t = table.pack(...)
  local out = {}
  for i = 1, t.n do out[i] = tostring(t[i]) end
  return out
end

--- Writes to stderr.
function M.err(...)
  io.stderr:write(...)
end

--- Ends the tool with a status, flushing output first.
function M.exit(code)
  io.stdout:flush()
  io.stderr:flush()
  os.exit(code, true)
end

-- The parts only some runs need (the --help text, getopt, progress bars,
-- space names) are in memlua.cli.more, loaded the first time a script asks
-- for one: most tool runs need none, and loading them was a tenth of a
-- `memlua devmem` run (benches/RESULTS.md, issue 11). Until then `pairs`
-- over this table does not list them.
local MORE = {
  optstring = true, command = true, usage = true, option_head = true, help = true,
  getopt = true, progress = true, space = true,
}
setmetatable(M, {
  __index = function(_, k)
    if not MORE[k] then return nil end
    require "memlua.cli.more"
    setmetatable(M, nil)
    return rawget(M, k)
  end,
})

return M
