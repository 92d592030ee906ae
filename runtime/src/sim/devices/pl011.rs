//! An ARM PrimeCell UART (PL011), the console of most ARM boards. Its
//! registers are 32 bits wide on a 4-byte stride; 8- and 16-bit accesses
//! reach the byte lanes of the register they fall in (an 8-bit read at
//! 0x019 is FR bits 15:8), as on an APB bus that ignores narrow strobes.
//!
//! | off         | name        | access | reset / value          |
//! |-------------|-------------|--------|------------------------|
//! | 0x000       | DR          | rw     | write transmits, read 0|
//! | 0x004       | RSR/ECR     | rw     | 0 (no receive errors)  |
//! | 0x018       | FR          | ro     | 0x90: TXFE, RXFE       |
//! | 0x020       | ILPR        | rw     | 0                      |
//! | 0x024       | IBRD        | rw     | 0 (16 bits)            |
//! | 0x028       | FBRD        | rw     | 0 (6 bits)             |
//! | 0x02C       | LCR_H       | rw     | 0                      |
//! | 0x030       | CR          | rw     | 0x300: TXE, RXE        |
//! | 0x034       | IFLS        | rw     | 0x12                   |
//! | 0x038       | IMSC        | rw     | 0 (11 bits)            |
//! | 0x03C       | RIS         | ro     | 0                      |
//! | 0x040       | MIS         | ro     | RIS & IMSC             |
//! | 0x044       | ICR         | wo     | write 1 clears RIS bit |
//! | 0x048       | DMACR       | rw     | 0 (3 bits)             |
//! | 0xFE0-0xFEC | PeriphID0-3 | ro     | 0x11, 0x10, 0x14, 0x00 |
//! | 0xFF0-0xFFC | PCellID0-3  | ro     | 0x0D, 0xF0, 0x05, 0xB1 |
//!
//! The line never stalls: the transmit FIFO is always empty (TXFE set,
//! TXFF and BUSY clear) and nothing is ever received (RXFE set). Every DR
//! write is captured for `sim.output`, whatever CR says, so a bare write to
//! DR shows up as it does on QEMU. Because the FIFO drains at once, each
//! DR write raises the transmit interrupt (RIS bit 5, TXRIS) until ICR
//! clears it. Reserved bits read as zero; read-only registers ignore writes.

use super::{Device, Tick};
use crate::{Result, Width};

const DR: u64 = 0x000;
const RSR_ECR: u64 = 0x004;
const FR: u64 = 0x018;
const ILPR: u64 = 0x020;
const IBRD: u64 = 0x024;
const FBRD: u64 = 0x028;
const LCR_H: u64 = 0x02c;
const CR: u64 = 0x030;
const IFLS: u64 = 0x034;
const IMSC: u64 = 0x038;
const RIS: u64 = 0x03c;
const MIS: u64 = 0x040;
const ICR: u64 = 0x044;
const DMACR: u64 = 0x048;
const PERIPH_ID: u64 = 0xfe0;
const PCELL_ID: u64 = 0xff0;

/// PeriphID0-3: part 0x011, designer ARM (0x41), revision 1 (as QEMU says).
const PERIPH_IDS: [u32; 4] = [0x11, 0x10, 0x14, 0x00];
/// PCellID0-3: the PrimeCell preamble every AMBA probe checks (0xB105F00D).
const PCELL_IDS: [u32; 4] = [0x0d, 0xf0, 0x05, 0xb1];

const FR_RXFE: u32 = 1 << 4;
const FR_TXFE: u32 = 1 << 7;

const CR_RESET: u32 = 0x300;
const IFLS_RESET: u32 = 0x12;

/// TXRIS: the transmit FIFO went at or below its trigger level.
const INT_TX: u32 = 1 << 5;

/// The implemented bits of each read/write register (the TRM's widths;
/// CR bits 6:3 are reserved).
const ILPR_MASK: u32 = 0xff;
const IBRD_MASK: u32 = 0xffff;
const FBRD_MASK: u32 = 0x3f;
const LCR_H_MASK: u32 = 0xff;
const CR_MASK: u32 = 0xff87;
const IFLS_MASK: u32 = 0x3f;
const IMSC_MASK: u32 = 0x7ff;
const DMACR_MASK: u32 = 0x7;

/// One simulated PL011.
pub struct Pl011 {
    ilpr: u32,
    ibrd: u32,
    fbrd: u32,
    lcr_h: u32,
    cr: u32,
    ifls: u32,
    imsc: u32,
    ris: u32,
    dmacr: u32,
    out: Vec<u8>,
}

impl Pl011 {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Pl011 {
            ilpr: 0,
            ibrd: 0,
            fbrd: 0,
            lcr_h: 0,
            cr: CR_RESET,
            ifls: IFLS_RESET,
            imsc: 0,
            ris: 0,
            dmacr: 0,
            out: Vec::new(),
        }
    }

    /// The whole 32-bit register at `reg` (4-byte aligned), as read.
    fn reg(&self, reg: u64) -> u32 {
        match reg {
            FR => FR_TXFE | FR_RXFE,
            ILPR => self.ilpr,
            IBRD => self.ibrd,
            FBRD => self.fbrd,
            LCR_H => self.lcr_h,
            CR => self.cr,
            IFLS => self.ifls,
            IMSC => self.imsc,
            RIS => self.ris,
            MIS => self.ris & self.imsc,
            DMACR => self.dmacr,
            PERIPH_ID..=0xfec => PERIPH_IDS[((reg - PERIPH_ID) / 4) as usize],
            PCELL_ID..=0xffc => PCELL_IDS[((reg - PCELL_ID) / 4) as usize],
            // DR has nothing to receive, RSR no errors, ICR is write-only.
            DR | RSR_ECR | ICR => 0,
            _ => 0,
        }
    }

    /// The read/write register at `reg` and its implemented bits, if any.
    fn rw(&mut self, reg: u64) -> Option<(&mut u32, u32)> {
        Some(match reg {
            ILPR => (&mut self.ilpr, ILPR_MASK),
            IBRD => (&mut self.ibrd, IBRD_MASK),
            FBRD => (&mut self.fbrd, FBRD_MASK),
            LCR_H => (&mut self.lcr_h, LCR_H_MASK),
            CR => (&mut self.cr, CR_MASK),
            IFLS => (&mut self.ifls, IFLS_MASK),
            IMSC => (&mut self.imsc, IMSC_MASK),
            DMACR => (&mut self.dmacr, DMACR_MASK),
            _ => return None,
        })
    }
}

/// The register an access at `off` falls in and the bit position of its
/// first byte lane.
fn lane(off: u64) -> (u64, u32) {
    (off & !3, ((off & 3) * 8) as u32)
}

impl Device for Pl011 {
    fn kind(&self) -> &str {
        "pl011"
    }

    fn widths(&self) -> &[Width] {
        &[Width::W8, Width::W16, Width::W32]
    }

    fn read(&mut self, off: u64, w: Width, _tick: Tick) -> Result<u64> {
        let (reg, shift) = lane(off);
        Ok((self.reg(reg) as u64 >> shift) & w.mask())
    }

    fn write(&mut self, off: u64, w: Width, v: u64, _tick: Tick) -> Result<()> {
        let (reg, shift) = lane(off);
        // The bits of the register this access covers, and its value there.
        let lanes = (w.mask() << shift) as u32;
        let bits = (v << shift) as u32 & lanes;
        match reg {
            // The character is DR bits 7:0; a write to the upper lanes
            // carries none and sends nothing.
            DR if shift == 0 => {
                self.out.push(bits as u8);
                self.ris |= INT_TX;
            }
            ICR => self.ris &= !bits,
            // Any write to ECR clears RSR, which never holds an error.
            RSR_ECR => {}
            _ => {
                // FR, RIS, MIS and the IDs are read-only.
                if let Some((r, mask)) = self.rw(reg) {
                    *r = ((*r & !lanes) | bits) & mask;
                }
            }
        }
        Ok(())
    }

    fn output(&self) -> Option<&[u8]> {
        Some(&self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Tick = Tick { now_ns: 0 };

    fn rd(u: &mut Pl011, off: u64, w: Width) -> u64 {
        u.read(off, w, T).unwrap()
    }

    fn wr(u: &mut Pl011, off: u64, w: Width, v: u64) {
        u.write(off, w, v, T).unwrap()
    }

    #[test]
    fn dr_writes_are_captured_at_every_width() {
        let mut u = Pl011::new();
        wr(&mut u, DR, Width::W32, b'o' as u64);
        wr(&mut u, DR, Width::W16, b'k' as u64);
        wr(&mut u, DR, Width::W8, b'\n' as u64);
        assert_eq!(u.output(), Some(&b"ok\n"[..]));
        assert_eq!(rd(&mut u, DR, Width::W32), 0);
        // Upper lanes of DR hold no character.
        wr(&mut u, DR + 1, Width::W8, b'x' as u64);
        assert_eq!(u.output(), Some(&b"ok\n"[..]));
    }

    #[test]
    fn flags_say_empty_and_idle() {
        let mut u = Pl011::new();
        let fr = rd(&mut u, FR, Width::W32);
        assert_eq!(fr, 0x90);
        assert_ne!(fr & (1 << 7), 0, "TXFE");
        assert_ne!(fr & (1 << 4), 0, "RXFE");
        assert_eq!(fr & (1 << 5), 0, "TXFF");
        assert_eq!(fr & (1 << 3), 0, "BUSY");
        wr(&mut u, FR, Width::W32, 0);
        assert_eq!(rd(&mut u, FR, Width::W32), 0x90);
    }

    #[test]
    fn byte_lanes_read_the_right_bits() {
        let mut u = Pl011::new();
        assert_eq!(rd(&mut u, FR, Width::W8), 0x90);
        assert_eq!(rd(&mut u, FR + 1, Width::W8), 0);
        assert_eq!(rd(&mut u, CR, Width::W8), 0x00);
        assert_eq!(rd(&mut u, CR + 1, Width::W8), 0x03);
        assert_eq!(rd(&mut u, CR, Width::W16), 0x300);
        assert_eq!(rd(&mut u, CR + 2, Width::W16), 0);
    }

    #[test]
    fn byte_lane_writes_merge_into_the_register() {
        let mut u = Pl011::new();
        wr(&mut u, IBRD, Width::W32, 0x1234);
        wr(&mut u, IBRD + 1, Width::W8, 0xab);
        assert_eq!(rd(&mut u, IBRD, Width::W32), 0xab34);
        wr(&mut u, IBRD, Width::W8, 0xcd);
        assert_eq!(rd(&mut u, IBRD, Width::W32), 0xabcd);
        // Bits past IBRD's 16 are reserved.
        wr(&mut u, IBRD + 2, Width::W16, 0xffff);
        assert_eq!(rd(&mut u, IBRD, Width::W32), 0xabcd);
    }

    #[test]
    fn reset_values_and_register_widths() {
        let mut u = Pl011::new();
        assert_eq!(rd(&mut u, CR, Width::W32), 0x300);
        assert_eq!(rd(&mut u, IFLS, Width::W32), 0x12);
        for (off, mask) in [
            (ILPR, 0xff),
            (IBRD, 0xffff),
            (FBRD, 0x3f),
            (LCR_H, 0xff),
            (CR, 0xff87),
            (IFLS, 0x3f),
            (IMSC, 0x7ff),
            (DMACR, 0x7),
        ] {
            wr(&mut u, off, Width::W32, 0xffff_ffff);
            assert_eq!(rd(&mut u, off, Width::W32), mask, "{off:#x}");
        }
        // Programming 115200 baud from a 24 MHz clock, then enabling.
        wr(&mut u, IBRD, Width::W32, 13);
        wr(&mut u, FBRD, Width::W32, 1);
        wr(&mut u, LCR_H, Width::W32, 0x70);
        wr(&mut u, CR, Width::W32, 0x301);
        assert_eq!(rd(&mut u, IBRD, Width::W32), 13);
        assert_eq!(rd(&mut u, FBRD, Width::W32), 1);
        assert_eq!(rd(&mut u, LCR_H, Width::W32), 0x70);
        assert_eq!(rd(&mut u, CR, Width::W32), 0x301);
    }

    #[test]
    fn identification_registers() {
        let mut u = Pl011::new();
        let ids: Vec<u64> = (0..8)
            .map(|i| rd(&mut u, PERIPH_ID + 4 * i, Width::W32))
            .collect();
        assert_eq!(ids, [0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1]);
        wr(&mut u, PCELL_ID, Width::W32, 0);
        assert_eq!(rd(&mut u, PCELL_ID, Width::W8), 0x0d);
        assert_eq!(rd(&mut u, PCELL_ID + 1, Width::W8), 0);
    }

    #[test]
    fn tx_interrupt_masked_and_cleared() {
        let mut u = Pl011::new();
        assert_eq!(rd(&mut u, RIS, Width::W32), 0);
        wr(&mut u, DR, Width::W8, b'a' as u64);
        assert_eq!(rd(&mut u, RIS, Width::W32), 0x20);
        assert_eq!(rd(&mut u, MIS, Width::W32), 0);
        wr(&mut u, IMSC, Width::W32, 0x20);
        assert_eq!(rd(&mut u, MIS, Width::W32), 0x20);
        wr(&mut u, RIS, Width::W32, 0); // read-only
        assert_eq!(rd(&mut u, RIS, Width::W32), 0x20);
        wr(&mut u, ICR, Width::W32, 0x7ff);
        assert_eq!(rd(&mut u, RIS, Width::W32), 0);
        assert_eq!(rd(&mut u, ICR, Width::W32), 0);
    }

    #[test]
    fn rsr_and_unused_offsets_read_zero() {
        let mut u = Pl011::new();
        wr(&mut u, RSR_ECR, Width::W32, 0xff);
        assert_eq!(rd(&mut u, RSR_ECR, Width::W32), 0);
        for off in [0x008, 0x014, 0x04c, 0x100, 0xfdc] {
            wr(&mut u, off, Width::W32, 0xffff_ffff);
            assert_eq!(rd(&mut u, off, Width::W32), 0, "{off:#x}");
        }
    }
}
