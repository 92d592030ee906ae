//! An NS16550A UART, the PC's COM port: eight byte-wide registers at offsets
//! 0-7, accessed with 8-bit loads and stores only. It models what a driver
//! probes and programs, with a line that never stalls: the transmitter is
//! empty again the moment a byte is written, and what it sent is kept for
//! `sim.output`.
//!
//! | off | read                        | write                      |
//! |-----|-----------------------------|----------------------------|
//! | 0   | RBR receive buffer / DLL    | THR transmit holding / DLL |
//! | 1   | IER interrupt enable / DLM  | IER / DLM                  |
//! | 2   | IIR interrupt identification| FCR FIFO control           |
//! | 3   | LCR line control            | LCR                        |
//! | 4   | MCR modem control           | MCR                        |
//! | 5   | LSR line status             | (ignored)                  |
//! | 6   | MSR modem status            | (ignored)                  |
//! | 7   | SCR scratch                 | SCR                        |
//!
//! LCR bit 7 (DLAB) puts the divisor latch (DLL/DLM) at offsets 0 and 1.
//! Nothing is ever received from outside; data only arrives through MCR
//! loopback (bit 4), where a THR byte goes to the receiver instead of the
//! line, as drivers use it to test the chip. Interrupt identification
//! follows the 16550's priorities (line status, received data, THR empty,
//! modem status); no interrupt line is driven, IIR only reports.

use std::collections::VecDeque;

use super::{Device, Tick};
use crate::{Result, Width};

const RBR_THR_DLL: u64 = 0;
const IER_DLM: u64 = 1;
const IIR_FCR: u64 = 2;
const LCR: u64 = 3;
const MCR: u64 = 4;
const LSR: u64 = 5;
const MSR: u64 = 6;
const SCR: u64 = 7;

const LCR_DLAB: u8 = 0x80;

const IER_RDA: u8 = 0x01;
const IER_THRE: u8 = 0x02;
const IER_RLS: u8 = 0x04;
const IER_MS: u8 = 0x08;
/// The 16550 implements the low four IER bits; the rest read as zero.
const IER_MASK: u8 = 0x0f;

const IIR_NONE: u8 = 0x01;
const IIR_MS: u8 = 0x00;
const IIR_THRE: u8 = 0x02;
const IIR_RDA: u8 = 0x04;
const IIR_RLS: u8 = 0x06;
/// IIR bits 7:6 read 11 when the FIFOs are enabled: how drivers tell a
/// 16550A from an 8250/16450.
const IIR_FIFOS: u8 = 0xc0;

const FCR_ENABLE: u8 = 0x01;
const FCR_CLEAR_RX: u8 = 0x02;
/// FCR bits that stay set: enable, DMA mode and the receive trigger level.
/// The clear bits (1, 2) act once and read back as zero.
const FCR_KEPT: u8 = 0xc9;

const MCR_DTR: u8 = 0x01;
const MCR_RTS: u8 = 0x02;
const MCR_OUT1: u8 = 0x04;
const MCR_OUT2: u8 = 0x08;
const MCR_LOOP: u8 = 0x10;
/// The 16550 implements MCR bits 0-4; the rest read as zero.
const MCR_MASK: u8 = 0x1f;

const LSR_DR: u8 = 0x01;
const LSR_OE: u8 = 0x02;
const LSR_THRE: u8 = 0x20;
const LSR_TEMT: u8 = 0x40;

const MSR_DCTS: u8 = 0x01;
const MSR_DDSR: u8 = 0x02;
const MSR_TERI: u8 = 0x04;
const MSR_DDCD: u8 = 0x08;
const MSR_CTS: u8 = 0x10;
const MSR_DSR: u8 = 0x20;
const MSR_RI: u8 = 0x40;
const MSR_DCD: u8 = 0x80;
/// Outside loopback the simulated line has a terminal attached that is
/// ready (CTS, DSR, DCD asserted, not ringing), so drivers that wait for
/// the modem lines before sending do not hang.
const MSR_LINE: u8 = MSR_CTS | MSR_DSR | MSR_DCD;

const FIFO_DEPTH: usize = 16;

/// One simulated 16550.
pub struct Uart16550 {
    ier: u8,
    fcr: u8,
    lcr: u8,
    mcr: u8,
    scr: u8,
    dll: u8,
    dlm: u8,
    /// Bytes received (only through loopback), oldest first.
    rx: VecDeque<u8>,
    /// The last byte read from RBR: reading an empty receiver repeats it,
    /// as the real holding register does.
    rbr: u8,
    /// LSR overrun error, cleared by reading LSR.
    overrun: bool,
    /// The THR-empty interrupt is pending: raised when THR empties (always
    /// right after a write) or when IER enables it, cleared by a read of
    /// IIR that reports it.
    thre_pending: bool,
    /// MSR delta bits (3:0), cleared by reading MSR.
    msr_delta: u8,
    out: Vec<u8>,
}

impl Uart16550 {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Uart16550 {
            ier: 0,
            fcr: 0,
            lcr: 0,
            mcr: 0,
            scr: 0,
            dll: 0,
            dlm: 0,
            rx: VecDeque::with_capacity(FIFO_DEPTH),
            rbr: 0,
            overrun: false,
            thre_pending: false,
            msr_delta: 0,
            out: Vec::new(),
        }
    }

    /// The programmed baud divisor, DLM:DLL (115200 / divisor = baud).
    pub fn divisor(&self) -> u16 {
        u16::from_le_bytes([self.dll, self.dlm])
    }

    /// The line control register: word length, stop bits, parity, DLAB.
    pub fn lcr(&self) -> u8 {
        self.lcr
    }

    fn dlab(&self) -> bool {
        self.lcr & LCR_DLAB != 0
    }

    fn fifos(&self) -> bool {
        self.fcr & FCR_ENABLE != 0
    }

    /// The modem inputs (MSR 7:4). In loopback they are wired to the
    /// outputs as the datasheet says: DTR->DSR, RTS->CTS, OUT1->RI,
    /// OUT2->DCD; Linux's 8250 probe checks exactly this.
    fn modem_inputs(&self) -> u8 {
        if self.mcr & MCR_LOOP == 0 {
            return MSR_LINE;
        }
        let m = self.mcr;
        let mut v = 0;
        if m & MCR_DTR != 0 {
            v |= MSR_DSR;
        }
        if m & MCR_RTS != 0 {
            v |= MSR_CTS;
        }
        if m & MCR_OUT1 != 0 {
            v |= MSR_RI;
        }
        if m & MCR_OUT2 != 0 {
            v |= MSR_DCD;
        }
        v
    }

    /// Latches MSR's delta bits for a change of the modem inputs. RI only
    /// reports its trailing edge (TERI), as on the chip.
    fn note_modem_change(&mut self, old: u8, new: u8) {
        let changed = old ^ new;
        if changed & MSR_CTS != 0 {
            self.msr_delta |= MSR_DCTS;
        }
        if changed & MSR_DSR != 0 {
            self.msr_delta |= MSR_DDSR;
        }
        if old & MSR_RI != 0 && new & MSR_RI == 0 {
            self.msr_delta |= MSR_TERI;
        }
        if changed & MSR_DCD != 0 {
            self.msr_delta |= MSR_DDCD;
        }
    }

    /// A byte arriving at the receiver. A full receiver is an overrun: with
    /// FIFOs the new byte is lost, without them it overwrites RBR.
    fn receive(&mut self, b: u8) {
        let depth = if self.fifos() { FIFO_DEPTH } else { 1 };
        if self.rx.len() >= depth {
            self.overrun = true;
            if self.fifos() {
                return;
            }
            self.rx.clear();
        }
        self.rx.push_back(b);
    }

    fn transmit(&mut self, b: u8) {
        if self.mcr & MCR_LOOP != 0 {
            self.receive(b);
        } else {
            self.out.push(b);
        }
        // The line never stalls, so THR is empty again at once.
        self.thre_pending = true;
    }

    fn lsr(&self) -> u8 {
        let mut v = LSR_THRE | LSR_TEMT;
        if !self.rx.is_empty() {
            v |= LSR_DR;
        }
        if self.overrun {
            v |= LSR_OE;
        }
        v
    }

    /// The highest-priority pending interrupt, as IIR bits 3:0. Received
    /// data is reported as soon as one byte is there: the FIFO trigger
    /// level and character timeout are not modelled.
    fn pending(&self) -> u8 {
        if self.ier & IER_RLS != 0 && self.overrun {
            IIR_RLS
        } else if self.ier & IER_RDA != 0 && !self.rx.is_empty() {
            IIR_RDA
        } else if self.ier & IER_THRE != 0 && self.thre_pending {
            IIR_THRE
        } else if self.ier & IER_MS != 0 && self.msr_delta != 0 {
            IIR_MS
        } else {
            IIR_NONE
        }
    }

    fn read_reg(&mut self, off: u64) -> u8 {
        match off {
            RBR_THR_DLL if self.dlab() => self.dll,
            RBR_THR_DLL => {
                if let Some(b) = self.rx.pop_front() {
                    self.rbr = b;
                }
                self.rbr
            }
            IER_DLM if self.dlab() => self.dlm,
            IER_DLM => self.ier,
            IIR_FCR => {
                let id = self.pending();
                if id == IIR_THRE {
                    // Reading IIR is what acknowledges a THR-empty interrupt.
                    self.thre_pending = false;
                }
                id | if self.fifos() { IIR_FIFOS } else { 0 }
            }
            LCR => self.lcr,
            MCR => self.mcr,
            LSR => {
                let v = self.lsr();
                self.overrun = false;
                v
            }
            MSR => {
                let v = self.modem_inputs() | self.msr_delta;
                self.msr_delta = 0;
                v
            }
            SCR => self.scr,
            _ => 0,
        }
    }

    fn write_reg(&mut self, off: u64, v: u8) {
        match off {
            RBR_THR_DLL if self.dlab() => self.dll = v,
            RBR_THR_DLL => self.transmit(v),
            IER_DLM if self.dlab() => self.dlm = v,
            IER_DLM => {
                let old = self.ier;
                self.ier = v & IER_MASK;
                // Enabling the THR-empty interrupt while THR is empty (it
                // always is) raises it at once; drivers rely on this to
                // kick off transmission and to probe for the THRE bug.
                if (old ^ self.ier) & IER_THRE != 0 {
                    self.thre_pending = self.ier & IER_THRE != 0;
                }
            }
            IIR_FCR => {
                // Turning the FIFOs on or off resets them, as does bit 1.
                if (self.fcr ^ v) & FCR_ENABLE != 0 || v & FCR_CLEAR_RX != 0 {
                    self.rx.clear();
                }
                self.fcr = v & FCR_KEPT;
            }
            LCR => self.lcr = v,
            MCR => {
                let old = self.modem_inputs();
                self.mcr = v & MCR_MASK;
                let new = self.modem_inputs();
                self.note_modem_change(old, new);
            }
            SCR => self.scr = v,
            // LSR and MSR are status: writes to them are ignored.
            _ => {}
        }
    }
}

impl Device for Uart16550 {
    fn kind(&self) -> &str {
        "uart16550"
    }

    fn widths(&self) -> &[Width] {
        &[Width::W8]
    }

    fn read(&mut self, off: u64, _w: Width, _tick: Tick) -> Result<u64> {
        Ok(self.read_reg(off) as u64)
    }

    fn write(&mut self, off: u64, _w: Width, v: u64, _tick: Tick) -> Result<()> {
        self.write_reg(off, v as u8);
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

    fn rd(u: &mut Uart16550, off: u64) -> u64 {
        u.read(off, Width::W8, T).unwrap()
    }

    fn wr(u: &mut Uart16550, off: u64, v: u64) {
        u.write(off, Width::W8, v, T).unwrap()
    }

    #[test]
    fn only_byte_accesses() {
        assert_eq!(Uart16550::new().widths(), &[Width::W8]);
    }

    #[test]
    fn thr_bytes_are_captured() {
        let mut u = Uart16550::new();
        for b in b"hi\n" {
            wr(&mut u, RBR_THR_DLL, *b as u64);
        }
        assert_eq!(u.output(), Some(&b"hi\n"[..]));
        // Nothing was received.
        assert_eq!(rd(&mut u, LSR), 0x60);
    }

    #[test]
    fn lsr_says_transmitter_empty_and_nothing_received() {
        let mut u = Uart16550::new();
        assert_eq!(rd(&mut u, LSR), 0x60);
        wr(&mut u, LSR, 0xff);
        assert_eq!(rd(&mut u, LSR), 0x60);
    }

    #[test]
    fn dlab_switches_offsets_0_and_1_to_the_divisor() {
        let mut u = Uart16550::new();
        wr(&mut u, IER_DLM, 0x05);
        wr(&mut u, LCR, 0x83); // DLAB, 8N1
        wr(&mut u, RBR_THR_DLL, 0x01); // 115200 baud
        wr(&mut u, IER_DLM, 0x00);
        assert_eq!(rd(&mut u, RBR_THR_DLL), 0x01);
        assert_eq!(rd(&mut u, IER_DLM), 0x00);
        wr(&mut u, RBR_THR_DLL, 0x0c);
        wr(&mut u, IER_DLM, 0x01);
        assert_eq!(u.divisor(), 0x010c);
        assert_eq!(u.lcr(), 0x83);
        // A divisor write is not a transmitted byte.
        assert_eq!(u.output(), Some(&[][..]));
        wr(&mut u, LCR, 0x03);
        assert_eq!(u.lcr(), 0x03);
        // DLAB off: offset 1 is IER again, unchanged by the DLM writes.
        assert_eq!(rd(&mut u, IER_DLM), 0x05);
        wr(&mut u, RBR_THR_DLL, b'x' as u64);
        assert_eq!(u.output(), Some(&b"x"[..]));
        assert_eq!(u.divisor(), 0x010c);
    }

    #[test]
    fn ier_and_mcr_keep_only_implemented_bits() {
        let mut u = Uart16550::new();
        wr(&mut u, IER_DLM, 0xff);
        assert_eq!(rd(&mut u, IER_DLM), 0x0f);
        wr(&mut u, MCR, 0xff);
        assert_eq!(rd(&mut u, MCR), 0x1f);
    }

    #[test]
    fn iir_reports_fifos_and_no_interrupt() {
        let mut u = Uart16550::new();
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
        wr(&mut u, IIR_FCR, 0xc7); // enable, clear both, trigger 14
        assert_eq!(rd(&mut u, IIR_FCR), 0xc1);
        wr(&mut u, IIR_FCR, 0x00);
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
    }

    #[test]
    fn thr_empty_interrupt_is_raised_and_acknowledged_by_iir() {
        let mut u = Uart16550::new();
        wr(&mut u, IER_DLM, IER_THRE as u64);
        assert_eq!(rd(&mut u, IIR_FCR), 0x02);
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
        wr(&mut u, RBR_THR_DLL, b'a' as u64);
        assert_eq!(rd(&mut u, IIR_FCR), 0x02);
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
    }

    #[test]
    fn loopback_sends_thr_to_rbr_not_the_output() {
        let mut u = Uart16550::new();
        wr(&mut u, MCR, MCR_LOOP as u64);
        wr(&mut u, RBR_THR_DLL, 0x5a);
        assert_eq!(u.output(), Some(&[][..]));
        assert_eq!(rd(&mut u, LSR), 0x61);
        assert_eq!(rd(&mut u, RBR_THR_DLL), 0x5a);
        assert_eq!(rd(&mut u, LSR), 0x60);
        // Out of loopback, bytes reach the line again.
        wr(&mut u, MCR, 0);
        wr(&mut u, RBR_THR_DLL, 0x41);
        assert_eq!(u.output(), Some(&b"A"[..]));
        assert_eq!(rd(&mut u, LSR), 0x60);
    }

    #[test]
    fn loopback_received_data_interrupt() {
        let mut u = Uart16550::new();
        wr(&mut u, MCR, MCR_LOOP as u64);
        wr(&mut u, IER_DLM, IER_RDA as u64);
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
        wr(&mut u, RBR_THR_DLL, 1);
        assert_eq!(rd(&mut u, IIR_FCR), 0x04);
        rd(&mut u, RBR_THR_DLL);
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
    }

    #[test]
    fn loopback_overrun_without_and_with_fifos() {
        let mut u = Uart16550::new();
        wr(&mut u, MCR, MCR_LOOP as u64);
        wr(&mut u, RBR_THR_DLL, 1);
        wr(&mut u, RBR_THR_DLL, 2);
        assert_eq!(rd(&mut u, LSR), 0x63); // DR | OE
        assert_eq!(rd(&mut u, LSR), 0x61); // OE cleared by the read
        assert_eq!(rd(&mut u, RBR_THR_DLL), 2); // overwritten

        wr(&mut u, IIR_FCR, 0x07);
        for b in 0..17 {
            wr(&mut u, RBR_THR_DLL, b);
        }
        assert_eq!(rd(&mut u, LSR), 0x63);
        let got: Vec<u64> = (0..16).map(|_| rd(&mut u, RBR_THR_DLL)).collect();
        assert_eq!(got, (0..16).collect::<Vec<u64>>()); // byte 16 was lost
        assert_eq!(rd(&mut u, LSR), 0x60);
        // FCR bit 1 empties the receive FIFO.
        wr(&mut u, RBR_THR_DLL, 9);
        wr(&mut u, IIR_FCR, 0x03);
        assert_eq!(rd(&mut u, LSR), 0x60);
    }

    #[test]
    fn msr_follows_mcr_in_loopback() {
        let mut u = Uart16550::new();
        assert_eq!(rd(&mut u, MSR), 0xb0);
        // Linux's 8250 probe: loopback with RTS and OUT2 must read CTS|DCD.
        wr(&mut u, MCR, (MCR_LOOP | MCR_RTS | MCR_OUT2) as u64);
        assert_eq!(rd(&mut u, MSR) & 0xf0, 0x90);
        wr(&mut u, MCR, (MCR_LOOP | MCR_OUT1) as u64);
        // CTS and DCD dropped, RI rose: deltas, then cleared by the read.
        assert_eq!(rd(&mut u, MSR), 0x40 | MSR_DCTS as u64 | MSR_DDCD as u64);
        assert_eq!(rd(&mut u, MSR), 0x40);
        wr(&mut u, IER_DLM, IER_MS as u64);
        wr(&mut u, MCR, MCR_LOOP as u64); // RI trailing edge
        assert_eq!(rd(&mut u, IIR_FCR), 0x00);
        assert_eq!(rd(&mut u, MSR), MSR_TERI as u64);
        assert_eq!(rd(&mut u, IIR_FCR), 0x01);
    }

    #[test]
    fn scratch_register_holds_a_byte() {
        let mut u = Uart16550::new();
        wr(&mut u, SCR, 0xa5);
        assert_eq!(rd(&mut u, SCR), 0xa5);
    }

    #[test]
    fn past_the_registers_reads_zero() {
        let mut u = Uart16550::new();
        wr(&mut u, 8, 0xff);
        wr(&mut u, 0xfff, 0xff);
        assert_eq!(rd(&mut u, 8), 0);
        assert_eq!(rd(&mut u, 0xfff), 0);
        assert_eq!(u.output(), Some(&[][..]));
    }
}
