-- A board test: the 16550 UART at 0xFE000000. The same file runs on the
-- simulated board in CI (`memlua test examples/board-tests`) and on the
-- board itself (`memlua test -b native -w examples/board-tests`); only
-- what the simulator alone can see is skipped there.
local UART = 0xFE000000
local THR, LCR, LSR = 0, 3, 5   -- registers (byte offsets)
local THRE = 0x20               -- LSR: transmitter holding register empty

describe("uart0", function()
  local uart
  before_each(function() uart = mem.map(UART, 8) end)

  it("is ready to send", function()
    assert.equal(THRE, uart:read8(LSR) & THRE)
  end)

  it("keeps the line settings written", function()
    uart:write8(LCR, 0x03)      -- 8 data bits, no parity, 1 stop bit
    assert.equal(0x03, uart:read8(LCR))
  end)

  it("sends what is written", function()
    for c in ("hi\n"):gmatch(".") do uart:write8(THR, c:byte()) end
    if backend.name ~= "sim" then skip("only the simulator sees the line") end
    assert.equal("hi\n", sim.output("uart0"))
  end)

  it("refuses a misaligned access", function()
    expect_error(uart.read32, "EINVAL", uart, 1)
  end)
end)
