-- hpet: identify the HPET, enable its main counter, measure that it runs.
-- The same recipe on the simulated q35 board and on QEMU's q35:
--   memlua --board q35 examples/hpet.lua
--   memlua -b qemu --machine q35 examples/hpet.lua
local HPET = 0xFED00000
local GCAP_ID, GEN_CONF, MAIN_COUNTER = 0x000, 0x010, 0x0F0

-- 1. Capabilities and ID (IA-PC HPET spec 2.3.1): vendor in bits 31:16,
--    timers - 1 in 12:8, revision in 7:0; the period in femtoseconds above.
local hpet = mem.map(HPET, 0x400)
local id, period_fs = hpet:read32(GCAP_ID), hpet:read32(GCAP_ID + 4)
local vendor, timers, rev = id >> 16, ((id >> 8) & 0x1f) + 1, id & 0xff
print(("HPET @ 0x%x: id 0x%08x (vendor 0x%04x, %d timers, rev %d), period %d fs"):format(
  HPET, id, vendor, timers, rev, period_fs))
assert(id == 0x8086a201, "not QEMU's HPET")
assert(period_fs == 10000000, "expected a 10 ns tick")

-- 2. Let the machine's time pass: the simulator's clock, or QEMU's guest
--    (a replay of a recording answers with the counter values it got).
local function wait(ns)
  if backend.name == "qemu" then qemu.run(ns) elseif backend.name == "sim" then sim.advance(ns) end
end

-- 3. Enable (GEN_CONF.ENABLE_CNF), measure 1 ms, disable again.
local conf = hpet:read32(GEN_CONF)
hpet:write32(GEN_CONF, conf | 1)
local c0 = hpet:read64(MAIN_COUNTER)
wait(1000000)
local c1 = hpet:read64(MAIN_COUNTER)
hpet:write32(GEN_CONF, conf)
local ticks = c1 - c0
local ns = ticks * period_fs // 1000000
print(("main counter: %d -> %d, %d ticks = %d ns over a 1 ms wait"):format(c0, c1, ticks, ns))
-- At least the wait (QEMU's clock may run a little longer: the guest runs
-- from `cont` to `stop`), and no more than a second.
assert(ns >= 1000000 and ns < 1000000000, "the counter did not follow the clock")
-- Disabled, it holds its value.
local held = hpet:read64(MAIN_COUNTER)
wait(1000000)
assert(hpet:read64(MAIN_COUNTER) == held, "the counter runs while disabled")
print("hpet: OK")
