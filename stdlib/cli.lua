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

--- The getopt string of a spec's (or a command's) short options: "kg:xo:".
function M.optstring(spec)
  local out = {}
  for _, o in ipairs(spec.options or {}) do
    if not o.long then out[#out + 1] = o[1] .. (o.value and ":" or "") end
  end
  return table.concat(out)
end

--- A spec's command by name, or nil.
function M.command(spec, name)
  for _, c in ipairs(spec.commands or {}) do
    if c[1] == name then return c end
  end
end

--- `usage: memlua NAME USAGE`, with its newline.
function M.usage(spec)
  return ("usage: memlua %s %s\n"):format(spec.name, spec.usage)
end

local function option_head(o)
  local head = o.long and ("--" .. o.long) or ("-" .. o[1])
  if o.value then head = head .. " " .. o.value end
  return head
end
M.option_head = option_head

--- `text` wrapped to 78 columns: lines after the first indented by
--- `indent` spaces; the first goes on after `lead`, the text already on it.
local function wrap(text, indent, lead)
  local lines, line = {}, lead or (" "):rep(indent)
  local fresh = true
  for word in text:gmatch("%S+") do
    if not fresh and #line + 1 + #word > 78 then
      lines[#lines + 1] = line
      line, fresh = (" "):rep(indent), true
    end
    line = line .. (fresh and "" or " ") .. word
    fresh = false
  end
  lines[#lines + 1] = line
  return table.concat(lines, "\n") .. "\n"
end

--- `head` in a column `width` wide, then `text` wrapped beside it (below
--- it when the head is wider).
local function entry(head, width, text)
  if #head < width then
    return wrap(text, width + 1, head .. (" "):rep(width + 1 - #head))
  end
  return head .. "\n" .. wrap(text, width + 1)
end

local function options_text(options, indent)
  local out = {}
  for _, o in ipairs(options or {}) do
    out[#out + 1] = entry((" "):rep(indent) .. option_head(o), indent + 16, o.help)
    -- Examples are never wrapped: they are for copying.
    out[#out + 1] = (" "):rep(indent + 19) .. "e.g. " .. o.example .. "\n"
  end
  return table.concat(out)
end

--- The --help text: what the tool does, its usage, every operand, option
--- and command with what it does and an example.
function M.help(spec)
  local out = { ("%s: %s\n\n"):format(spec.name, spec.summary), M.usage(spec) }
  if spec.operands and #spec.operands > 0 then
    out[#out + 1] = "\n"
    for _, op in ipairs(spec.operands) do out[#out + 1] = entry("  " .. op[1], 18, op[2]) end
  end
  if spec.options and #spec.options > 0 then
    out[#out + 1] = "\nOptions:\n" .. options_text(spec.options, 2)
  end
  if spec.commands then
    out[#out + 1] = "\nCommands:\n"
    for _, c in ipairs(spec.commands) do
      out[#out + 1] = ("  %s %s\n"):format(c[1], c.usage)
      out[#out + 1] = wrap(c.help, 6)
      out[#out + 1] = "      e.g. " .. c.example .. "\n"
      out[#out + 1] = options_text(c.options, 6)
    end
  end
  if spec.notes then out[#out + 1] = "\n" .. wrap(spec.notes, 0) end
  out[#out + 1] = "\n" .. wrap(spec.exit or M.EXIT, 0)
  return table.concat(out)
end

--- Whether the arguments ask for help: `--help` or `-h` alone first.
function M.help_asked(args)
  return args[1] == "--help" or args[1] == "-h"
end

--- getopt(args, optstring [, onerror]): BSD getopt. Returns an array of
--- {opt, value} and the index of the first operand. Parsing stops at the
--- first operand or after `--`. A bad option calls onerror(message) with
--- getopt's own words ("illegal option -- x"). `optstring` may be a spec
--- (or a spec's command): its short options.
function M.getopt(args, optstring, onerror)
  if type(optstring) == "table" then optstring = M.optstring(optstring) end
  local opts, i = {}, 1
  while i <= #args do
    local a = args[i]
    if a == "--" then i = i + 1; break end
    if a:sub(1, 1) ~= "-" or a == "-" then break end
    local j = 2
    while j <= #a do
      local c = a:sub(j, j)
      local at = optstring:find(c, 1, true)
      if not at or c == ":" then
        return nil, onerror and onerror("illegal option -- " .. c)
      end
      if optstring:sub(at + 1, at + 1) == ":" then
        local v = a:sub(j + 1)
        if v == "" then
          i = i + 1
          v = args[i]
          if v == nil then
            return nil, onerror and onerror("option requires an argument -- " .. c)
          end
        end
        opts[#opts + 1] = { c, v }
        break
      end
      opts[#opts + 1] = { c, true }
      j = j + 1
    end
    i = i + 1
  end
  return opts, i
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

local NO_BAR = { inc = function() end, set = function() end, finish = function() end,
  println = function(_, text) io.stdout:write(text) end }

--- A progress bar for `total` units that draws only on a terminal: for
--- runs of at least `opts.min` units (default 4 MiB), or, with
--- `opts.after` (seconds), for any run still going after that long.
--- `bar:println(text)` writes a line to stdout with the bar out of its way.
function M.progress(total, label, opts)
  opts = opts or {}
  if not opts.after and total < (opts.min or 4 << 20) then return NO_BAR end
  local ok, progress = pcall(require, "memlua.progress")
  if not ok or not progress.enabled() then return NO_BAR end
  if not opts.after then
    local bar = progress.new(total, label)
    return { inc = function(_, n) bar:inc(n) end, set = function(_, p) bar:set(p) end,
      finish = function() bar:finish() end,
      println = function(_, text) bar:finish(); io.stdout:write(text) end }
  end
  -- Drawn once the run has taken `after` seconds, whatever its size.
  local host = require "memlua.host"
  local due = host.monotonic_ns() + math.floor(opts.after * 1e9)
  local bar, pos = nil, 0
  local self = {}
  function self:set(p)
    pos = p
    if not bar then
      if host.monotonic_ns() < due then return end
      bar = progress.new(total, label)
    end
    bar:set(p)
  end
  function self:inc(n) self:set(pos + (n or 1)) end
  function self:finish() if bar then bar:finish(); bar = nil end end
  function self:println(text)
    -- The bar is cleared, and drawn again at the next set().
    if bar then bar:finish(); bar = nil end
    io.stdout:write(text)
    io.stdout:flush()
  end
  return self
end

--- The API table for a space name: "phys" (mem) or "kernel" (kmem).
function M.space(name)
  if name == nil or name == "phys" or name == "p" or name == "mem" then return mem, "phys" end
  if name == "kernel" or name == "k" or name == "kmem" then return kmem, "kernel" end
  return nil
end

return M
