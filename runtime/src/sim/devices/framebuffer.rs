//! A framebuffer: `size` bytes of device memory that behave like RAM at
//! every width (little-endian), with no registers. It is backed by sparse
//! pages, so a 16 MiB framebuffer costs nothing until something is drawn,
//! and `memory()` exposes those pages so bulk transfers (a blit, a DMA
//! copy) move bytes directly instead of one access at a time.

use super::{Device, Tick};
use crate::sim::ram::SparseMem;
use crate::{Result, Width};

/// One simulated framebuffer.
pub struct Framebuffer {
    mem: SparseMem,
}

impl Framebuffer {
    /// The pages are sparse, but their directory costs 8 bytes per 2 MiB
    /// up front: 16 TiB, far beyond any real aperture, costs 64 MiB.
    pub const MAX_SIZE: u64 = 1 << 44;

    /// `size` is at most `MAX_SIZE` (`devices::check`).
    pub fn new(size: u64) -> Self {
        Framebuffer {
            mem: SparseMem::new(size),
        }
    }

    /// Whether an access lies inside the memory. The space sizes the
    /// window to the framebuffer, so this only guards a larger window.
    fn inside(&self, off: u64, w: Width) -> bool {
        off.checked_add(w.bytes())
            .is_some_and(|end| end <= self.mem.size())
    }
}

impl Device for Framebuffer {
    fn kind(&self) -> &str {
        "framebuffer"
    }

    fn widths(&self) -> &[Width] {
        &Width::ALL
    }

    fn read(&mut self, off: u64, w: Width, _tick: Tick) -> Result<u64> {
        Ok(if self.inside(off, w) {
            self.mem.read(off, w)
        } else {
            0
        })
    }

    fn write(&mut self, off: u64, w: Width, v: u64, _tick: Tick) -> Result<()> {
        if self.inside(off, w) {
            self.mem.write(off, w, v);
        }
        Ok(())
    }

    fn memory(&mut self) -> Option<&mut SparseMem> {
        Some(&mut self.mem)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Tick = Tick { now_ns: 0 };
    const MIB16: u64 = 16 << 20;

    #[test]
    fn sparse_until_drawn() {
        let mut fb = Framebuffer::new(MIB16);
        assert_eq!(fb.read(MIB16 - 8, Width::W64, T).unwrap(), 0);
        assert_eq!(fb.memory().unwrap().resident_pages(), 0);
        fb.write(0x80_0000, Width::W32, 0x00ff_8000, T).unwrap();
        assert_eq!(fb.memory().unwrap().resident_pages(), 1);
        assert_eq!(fb.memory().unwrap().size(), MIB16);
    }

    #[test]
    fn every_width_round_trips_little_endian() {
        let mut fb = Framebuffer::new(MIB16);
        for (i, w) in Width::ALL.into_iter().enumerate() {
            let off = 0x1000 * i as u64 + 8;
            let v = 0x8877_6655_4433_2211 & w.mask();
            fb.write(off, w, v, T).unwrap();
            assert_eq!(fb.read(off, w, T).unwrap(), v, "{w}");
            assert_eq!(fb.read(off, Width::W8, T).unwrap(), 0x11);
        }
        fb.write(MIB16 - 8, Width::W64, u64::MAX, T).unwrap();
        assert_eq!(fb.read(MIB16 - 1, Width::W8, T).unwrap(), 0xff);
    }

    #[test]
    fn memory_sees_register_writes_and_the_reverse() {
        let mut fb = Framebuffer::new(MIB16);
        fb.write(0x2000, Width::W32, 0xdead_beef, T).unwrap();
        let mem = fb.memory().unwrap();
        let mut px = [0u8; 4];
        mem.read_bytes(0x2000, &mut px);
        assert_eq!(px, [0xef, 0xbe, 0xad, 0xde]);
        mem.write_bytes(0x3ffe, &[1, 2, 3, 4]);
        assert_eq!(fb.read(0x3ffe, Width::W16, T).unwrap(), 0x0201);
        assert_eq!(fb.read(0x4000, Width::W16, T).unwrap(), 0x0403);
    }

    #[test]
    fn past_the_end_of_a_small_buffer_reads_zero() {
        let mut fb = Framebuffer::new(0x800);
        fb.write(0x800, Width::W64, u64::MAX, T).unwrap();
        assert_eq!(fb.read(0x800, Width::W64, T).unwrap(), 0);
        assert_eq!(fb.read(0xff8, Width::W64, T).unwrap(), 0);
        fb.write(0x7f8, Width::W64, 7, T).unwrap();
        assert_eq!(fb.read(0x7f8, Width::W64, T).unwrap(), 7);
    }
}
