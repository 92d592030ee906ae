//! A bank of 256 plain read/write bytes at offsets 0x00-0xFF, readable and
//! writable at every width (little-endian): a harmless target for scripts
//! and tests that need a device whose registers hold what was written, with
//! none of a real device's side effects. Offsets from 0x100 read zero and
//! ignore writes.

use super::{Device, Tick};
use crate::{Result, Width};

const LEN: usize = 0x100;

/// One simulated scratch register bank.
pub struct Scratch {
    regs: [u8; LEN],
}

impl Scratch {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Scratch { regs: [0; LEN] }
    }

    /// The bytes an access covers, if it falls inside the bank. Accesses
    /// are naturally aligned, so one never straddles its end.
    fn span(&mut self, off: u64, w: Width) -> Option<&mut [u8]> {
        let start = usize::try_from(off).ok().filter(|&s| s < LEN)?;
        self.regs.get_mut(start..start + w.bytes() as usize)
    }
}

impl Device for Scratch {
    fn kind(&self) -> &str {
        "scratch"
    }

    fn widths(&self) -> &[Width] {
        &Width::ALL
    }

    fn read(&mut self, off: u64, w: Width, _tick: Tick) -> Result<u64> {
        let Some(b) = self.span(off, w) else {
            return Ok(0);
        };
        let mut le = [0u8; 8];
        le[..b.len()].copy_from_slice(b);
        Ok(u64::from_le_bytes(le))
    }

    fn write(&mut self, off: u64, w: Width, v: u64, _tick: Tick) -> Result<()> {
        if let Some(b) = self.span(off, w) {
            let n = b.len();
            b.copy_from_slice(&v.to_le_bytes()[..n]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Tick = Tick { now_ns: 0 };

    #[test]
    fn every_width_round_trips_everywhere() {
        let mut s = Scratch::new();
        for w in Width::ALL {
            let pattern = 0x8877_6655_4433_2211 & w.mask();
            for off in (0..LEN as u64).step_by(w.bytes() as usize) {
                let v = pattern ^ off;
                s.write(off, w, v, T).unwrap();
                assert_eq!(s.read(off, w, T).unwrap(), v, "{w} at {off:#x}");
            }
        }
    }

    #[test]
    fn little_endian_across_widths() {
        let mut s = Scratch::new();
        s.write(0xf8, Width::W64, 0x0807_0605_0403_0201, T).unwrap();
        assert_eq!(s.read(0xf8, Width::W8, T).unwrap(), 0x01);
        assert_eq!(s.read(0xff, Width::W8, T).unwrap(), 0x08);
        assert_eq!(s.read(0xfa, Width::W16, T).unwrap(), 0x0403);
        assert_eq!(s.read(0xfc, Width::W32, T).unwrap(), 0x0807_0605);
        s.write(0xf9, Width::W8, 0xff, T).unwrap();
        assert_eq!(s.read(0xf8, Width::W64, T).unwrap(), 0x0807_0605_0403_ff01);
    }

    #[test]
    fn past_0xff_reads_zero_and_ignores_writes() {
        let mut s = Scratch::new();
        for w in Width::ALL {
            s.write(0x100, w, w.mask(), T).unwrap();
            assert_eq!(s.read(0x100, w, T).unwrap(), 0);
            assert_eq!(s.read(0x1000 - w.bytes(), w, T).unwrap(), 0);
        }
        assert_eq!(s.read(0xf8, Width::W64, T).unwrap(), 0);
    }
}
