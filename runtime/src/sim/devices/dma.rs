//! A one-channel memory-to-memory DMA engine: a script programs source,
//! destination and length, sets START and polls STATUS, the way drivers
//! drive a copy engine. The device cannot reach the physical space it sits
//! in, so a start only latches a request; the machine takes it with
//! `take_dma` after the write, does the copy and reports with `dma_done`.
//!
//! | off  | width  | name   | meaning                                      |
//! |------|--------|--------|----------------------------------------------|
//! | 0x00 | 64/32  | SRC    | source physical address (halves at +0, +4)   |
//! | 0x08 | 64/32  | DST    | destination address (halves at +8, +0xC)     |
//! | 0x10 | 32     | LEN    | bytes to copy                                |
//! | 0x14 | 32     | CTRL   | bit 0 START; other bits read back as written |
//! | 0x18 | 32     | STATUS | bit 0 DONE, bit 1 ERROR; write 1 to clear    |
//!
//! LEN, CTRL and STATUS are 32-bit registers: a 64-bit access at 0x10 or
//! 0x18 is EINVAL. Offsets from 0x1C read zero and ignore writes.
//!
//! Writing START = 1 latches SRC, DST and LEN at that moment and clears
//! DONE and ERROR, so STATUS always describes the latest transfer. START
//! reads 1 while the request waits to be taken (the engine is busy) and 0
//! afterwards. A second start before the first is taken replaces it. A
//! zero-length start completes at once with DONE and hands out no request,
//! so the machine never sees an empty copy.

use super::{Device, DmaRequest, Tick};
use crate::{Errno, Error, Result, Width};

const SRC: u64 = 0x00;
const SRC_HI: u64 = 0x04;
const DST: u64 = 0x08;
const DST_HI: u64 = 0x0c;
const LEN: u64 = 0x10;
const CTRL: u64 = 0x14;
const STATUS: u64 = 0x18;

const CTRL_START: u32 = 1 << 0;
const STATUS_DONE: u32 = 1 << 0;
const STATUS_ERROR: u32 = 1 << 1;

/// One simulated DMA engine.
pub struct Dma {
    src: u64,
    dst: u64,
    len: u32,
    /// CTRL as written, without START (that bit reads as `pending`).
    ctrl: u32,
    status: u32,
    /// The request latched by START, until the machine takes it.
    pending: Option<DmaRequest>,
}

impl Dma {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Dma {
            src: 0,
            dst: 0,
            len: 0,
            ctrl: 0,
            status: 0,
            pending: None,
        }
    }

    fn start(&mut self) {
        self.status = 0;
        if self.len == 0 {
            self.pending = None;
            self.status = STATUS_DONE;
            return;
        }
        self.pending = Some(DmaRequest {
            src: self.src,
            dst: self.dst,
            len: self.len as u64,
        });
    }
}

/// `v` written into the 32-bit half of `reg` that starts `half` bytes in.
fn set_half(reg: u64, half: u64, v: u64) -> u64 {
    let shift = half * 8;
    (reg & !(0xffff_ffff << shift)) | (v << shift)
}

fn width_error(name: &str, off: u64) -> Error {
    Error::new(
        Errno::EINVAL,
        "",
        format!("{name} is a 32-bit register (dma +{off:#x}): use a 32-bit access"),
    )
}

/// The registers a 64-bit access may not touch.
fn check_w64(off: u64, w: Width) -> Result<()> {
    match (off, w) {
        (LEN, Width::W64) => Err(width_error("LEN", LEN)),
        (STATUS, Width::W64) => Err(width_error("STATUS", STATUS)),
        _ => Ok(()),
    }
}

impl Device for Dma {
    fn kind(&self) -> &str {
        "dma"
    }

    fn widths(&self) -> &[Width] {
        &[Width::W32, Width::W64]
    }

    fn read(&mut self, off: u64, w: Width, _tick: Tick) -> Result<u64> {
        check_w64(off, w)?;
        let wide = w == Width::W64;
        Ok(match off {
            SRC if wide => self.src,
            DST if wide => self.dst,
            SRC | SRC_HI => (self.src >> ((off - SRC) * 8)) & 0xffff_ffff,
            DST | DST_HI => (self.dst >> ((off - DST) * 8)) & 0xffff_ffff,
            LEN => self.len as u64,
            CTRL => {
                let busy = if self.pending.is_some() {
                    CTRL_START
                } else {
                    0
                };
                (self.ctrl | busy) as u64
            }
            STATUS => self.status as u64,
            _ => 0,
        })
    }

    fn write(&mut self, off: u64, w: Width, v: u64, _tick: Tick) -> Result<()> {
        check_w64(off, w)?;
        let wide = w == Width::W64;
        match off {
            SRC if wide => self.src = v,
            DST if wide => self.dst = v,
            SRC | SRC_HI => self.src = set_half(self.src, off - SRC, v),
            DST | DST_HI => self.dst = set_half(self.dst, off - DST, v),
            LEN => self.len = v as u32,
            CTRL => {
                let v = v as u32;
                self.ctrl = v & !CTRL_START;
                if v & CTRL_START != 0 {
                    self.start();
                }
            }
            STATUS => self.status &= !(v as u32),
            _ => {}
        }
        Ok(())
    }

    fn take_dma(&mut self) -> Option<DmaRequest> {
        self.pending.take()
    }

    fn dma_done(&mut self, ok: bool) {
        self.status |= if ok { STATUS_DONE } else { STATUS_ERROR };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Tick = Tick { now_ns: 0 };

    fn rd(d: &mut Dma, off: u64, w: Width) -> u64 {
        d.read(off, w, T).unwrap()
    }

    fn wr(d: &mut Dma, off: u64, w: Width, v: u64) {
        d.write(off, w, v, T).unwrap()
    }

    fn program(d: &mut Dma, src: u64, dst: u64, len: u64) {
        wr(d, SRC, Width::W64, src);
        wr(d, DST, Width::W64, dst);
        wr(d, LEN, Width::W32, len);
    }

    #[test]
    fn addresses_by_halves_and_whole() {
        let mut d = Dma::new();
        wr(&mut d, SRC, Width::W32, 0x9abc_def0);
        wr(&mut d, SRC_HI, Width::W32, 0x1234_5678);
        assert_eq!(rd(&mut d, SRC, Width::W64), 0x1234_5678_9abc_def0);
        wr(&mut d, DST, Width::W64, 0xaaaa_bbbb_cccc_dddd);
        assert_eq!(rd(&mut d, DST, Width::W32), 0xcccc_dddd);
        assert_eq!(rd(&mut d, DST_HI, Width::W32), 0xaaaa_bbbb);
        wr(&mut d, DST_HI, Width::W32, 0);
        assert_eq!(rd(&mut d, DST, Width::W64), 0xcccc_dddd);
    }

    #[test]
    fn start_latches_one_request_taken_once() {
        let mut d = Dma::new();
        program(&mut d, 0x1000, 0x2000, 0x100);
        assert_eq!(d.take_dma(), None);
        wr(&mut d, CTRL, Width::W32, 0x1);
        // Reprogramming after the start does not change the request.
        wr(&mut d, SRC, Width::W64, 0x5000);
        assert_eq!(rd(&mut d, CTRL, Width::W32), 1, "busy until taken");
        assert_eq!(
            d.take_dma(),
            Some(DmaRequest {
                src: 0x1000,
                dst: 0x2000,
                len: 0x100
            })
        );
        assert_eq!(d.take_dma(), None);
        assert_eq!(rd(&mut d, CTRL, Width::W32), 0);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 0);
        d.dma_done(true);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 1);
    }

    #[test]
    fn ctrl_keeps_its_other_bits() {
        let mut d = Dma::new();
        program(&mut d, 0, 0, 4);
        wr(&mut d, CTRL, Width::W32, 0xf0f1);
        assert!(d.take_dma().is_some());
        assert_eq!(rd(&mut d, CTRL, Width::W32), 0xf0f0);
        wr(&mut d, CTRL, Width::W32, 0x2);
        assert_eq!(d.take_dma(), None);
        assert_eq!(rd(&mut d, CTRL, Width::W32), 0x2);
    }

    #[test]
    fn error_and_write_one_to_clear() {
        let mut d = Dma::new();
        program(&mut d, 0x1000, 0x2000, 8);
        wr(&mut d, CTRL, Width::W32, 1);
        assert!(d.take_dma().is_some());
        d.dma_done(false);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 2);
        d.dma_done(true);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 3);
        wr(&mut d, STATUS, Width::W32, 0); // writing 0 clears nothing
        assert_eq!(rd(&mut d, STATUS, Width::W32), 3);
        wr(&mut d, STATUS, Width::W32, 2);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 1);
        wr(&mut d, STATUS, Width::W32, 1);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 0);
    }

    #[test]
    fn a_new_start_clears_status_and_replaces_an_untaken_request() {
        let mut d = Dma::new();
        program(&mut d, 0x1000, 0x2000, 8);
        wr(&mut d, CTRL, Width::W32, 1);
        d.take_dma();
        d.dma_done(false);
        wr(&mut d, CTRL, Width::W32, 1);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 0);
        wr(&mut d, LEN, Width::W32, 16);
        wr(&mut d, CTRL, Width::W32, 1);
        assert_eq!(d.take_dma().map(|r| r.len), Some(16));
        assert_eq!(d.take_dma(), None);
    }

    #[test]
    fn zero_length_completes_without_a_request() {
        let mut d = Dma::new();
        program(&mut d, 0x1000, 0x2000, 0);
        wr(&mut d, CTRL, Width::W32, 1);
        assert_eq!(d.take_dma(), None);
        assert_eq!(rd(&mut d, STATUS, Width::W32), 1);
        assert_eq!(rd(&mut d, CTRL, Width::W32), 0);
    }

    #[test]
    fn thirty_two_bit_registers_refuse_64_bit_accesses() {
        let mut d = Dma::new();
        for (off, name) in [(LEN, "LEN"), (STATUS, "STATUS")] {
            let e = d.read(off, Width::W64, T).unwrap_err();
            assert_eq!(e.errno, Errno::EINVAL);
            assert!(e.op.is_empty());
            assert!(e.message.starts_with(name), "{}", e.message);
            assert!(e.message.contains("32-bit"));
            let e = d.write(off, Width::W64, 1, T).unwrap_err();
            assert_eq!(e.errno, Errno::EINVAL);
        }
        // A refused write changed nothing and started nothing.
        assert_eq!(d.take_dma(), None);
        assert_eq!(rd(&mut d, LEN, Width::W32), 0);
    }

    #[test]
    fn past_the_registers_reads_zero() {
        let mut d = Dma::new();
        wr(&mut d, 0x1c, Width::W32, 0xffff_ffff);
        wr(&mut d, 0x20, Width::W64, u64::MAX);
        assert_eq!(rd(&mut d, 0x1c, Width::W32), 0);
        assert_eq!(rd(&mut d, 0x20, Width::W64), 0);
        assert_eq!(rd(&mut d, 0xff8, Width::W64), 0);
    }
}
