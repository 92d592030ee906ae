-- v2p: look up the physical pages behind virtual addresses (a buffer, or a Linux process)
--
-- memlua v2p [--json] LENGTH            allocate, touch and lock a buffer; show its pages
-- memlua v2p [--json] -p PID ADDR [LEN] pages of another process (Linux /proc/PID/pagemap)
-- Each page: virtual address, state (invalid, valid, mapped), physical
-- address and NUMA domain. --json prints an array of {"vaddr":"0x..",
-- "state":..,"paddr":"0x..","domain":..,"why":..}, or {"error":{...}}.

local cli = require "memlua.cli"

local SPEC = cli.spec {
  name = "v2p",
  summary = "look up the physical pages behind virtual addresses (a buffer, or a Linux process)",
  usage = "[--json] LENGTH | -p PID ADDRESS [LENGTH]",
  operands = {
    { "LENGTH", "without -p: the size of a buffer memlua allocates, touches and locks; with -p: how many bytes from ADDRESS (default 4096)" },
    { "ADDRESS", "with -p: a virtual address in process PID" },
  },
  options = {
    { "p", value = "PID", help = "another process's pages, through Linux's /proc/PID/pagemap (physical addresses need CAP_SYS_ADMIN)",
      example = "memlua v2p -p $$ 0x400000 8192" },
    { long = "json", help = "print the pages as a JSON array", example = "memlua v2p --json 8192" },
  },
  notes = "Each page: its virtual address, its state (invalid: in no mapping; valid: mapped but not resident; "
    .. "mapped), its physical address and NUMA domain.",
}
local USAGE = cli.usage(SPEC)
local args = cli.args(...)
if cli.help_asked(args) then io.stdout:write(cli.help(SPEC)); cli.exit(0) end
local json = cli.take_json(args)
local function usage(why) cli.usage_error("v2p", why, USAGE) end
local opts, first = cli.getopt(args, SPEC, usage)
local pid
for _, p in ipairs(opts) do pid = cli.parse_uint(p[2], true) or usage("bad pid '" .. p[2] .. "'") end

local PAGE = 4096
local rows = {}

if pid then
  -- /proc/PID/pagemap: one little-endian u64 per page; bit 63 present,
  -- bit 62 swapped, bits 0-54 the frame (zero without CAP_SYS_ADMIN).
  local addr = cli.parse_uint(args[first] or "") or usage("an address is needed")
  local len = cli.parse_uint(args[first + 1] or "4096") or usage("bad length")
  if len <= 0 then usage("the length must be at least 1") end
  local f, err, errno = io.open(("/proc/%d/pagemap"):format(pid), "rb")
  if not f then
    -- Where memlua has a pagemap of its own the system is Linux, and the
    -- failure is about that PID (no such process, not allowed to look).
    local own = io.open("/proc/self/pagemap", "rb")
    if own then own:close() end
    if not own then
      cli.fail("v2p", "cannot open " .. tostring(err) .. " (-p needs Linux's /proc/PID/pagemap)", 1, "EOPNOTSUPP")
    elseif errno == 2 then -- ENOENT
      cli.fail("v2p", ("no process %d (%s)"):format(pid, tostring(err)), 1, "ESRCH")
    else
      cli.fail("v2p", "cannot open " .. tostring(err), 1, errno == 13 and "EACCES" or "EIO")
    end
  end
  -- The process's mappings tell a page that is not there (valid: inside
  -- a mapping, not resident) from an address outside every mapping
  -- (invalid), as MEM_EXTRACT_PADDR does.
  local vmas = {}
  local maps = io.open(("/proc/%d/maps"):format(pid), "r")
  if maps then
    for line in maps:lines() do
      local lo, hi = line:match("^(%x+)-(%x+)")
      if lo then vmas[#vmas + 1] = { tonumber(lo, 16), tonumber(hi, 16) } end
    end
    maps:close()
  end
  local function in_vma(a)
    for _, v in ipairs(vmas) do
      if math.ult(a, v[2]) and not math.ult(a, v[1]) then return true end
    end
    return false
  end
  local first_page = addr // PAGE
  for pg = first_page, (addr + len - 1) // PAGE do
    f:seek("set", pg * 8)
    local e = f:read(8)
    local row = { vaddr = pg * PAGE, state = in_vma(pg * PAGE) and "valid" or "invalid" }
    if e and #e == 8 then
      local v = string.unpack("<i8", e)
      if v & (1 << 63) ~= 0 then
        row.state = "mapped"
        local pfn = v & ((1 << 55) - 1)
        if pfn ~= 0 then row.paddr = pfn * PAGE else row.why = "frame hidden (needs CAP_SYS_ADMIN)" end
      elseif v & (1 << 62) ~= 0 then
        row.state = "valid"; row.why = "swapped out"
      end
    end
    rows[#rows + 1] = row
  end
  f:close()
else
  if not args[first] then usage("a length is needed") end
  local len = cli.parse_uint(args[first]) or usage("bad LENGTH '" .. args[first] .. "'")
  if len == 0 then usage("LENGTH is zero: there are no pages to show") end
  local ok, b = pcall(mem.alloc, len)
  if not ok then cli.fail("v2p", b) end
  for off = 0, b.len - 1, PAGE do b:write8(off, 0) end   -- touch every page
  pcall(b.lock, b)
  local pl = b:pages()
  for i = 1, #pl do
    local p = pl[i]
    rows[#rows + 1] = { vaddr = p.vaddr, state = p.state, paddr = p.paddr, domain = p.domain, why = p.why }
  end
end

if json then
  for _, r in ipairs(rows) do r.vaddr, r.paddr = cli.hex(r.vaddr), cli.hex(r.paddr) end
  print(cli.json(cli.array(rows)))
else
  print("vaddr              state    paddr              domain")
  for _, r in ipairs(rows) do
    print(("0x%016x %-8s %-18s %s"):format(r.vaddr, r.state, r.paddr and ("0x%x"):format(r.paddr) or "-",
      r.domain and tostring(r.domain) or (r.why or "-")))
  end
end
