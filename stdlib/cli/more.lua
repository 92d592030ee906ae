-- memlua.cli.more: the parts of memlua.cli that only some runs need,
-- loaded by memlua.cli the first time one is asked for (see there): the
-- --help text made from a tool's spec, BSD getopt, progress bars and the
-- API table for a space name. Require memlua.cli, not this.

local M = require "memlua.cli"

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
