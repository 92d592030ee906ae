//! An HPET (IA-PC High Precision Event Timer), as QEMU's q35 and pc
//! machines have one at 0xfed00000 (QEMU's hw/timer/hpet.c): the same
//! identification, period, reset values and write masks, so a recipe that
//! reads it gets the same answers on `--board q35` and on `-b qemu
//! --machine q35`. The main counter runs on the simulator's clock while
//! ENABLE_CNF is set; no interrupt is modelled (the comparators hold
//! values and nothing fires).
//!
//! 32- and 64-bit accesses (8- and 16-bit ones are EINVAL, as QEMU's HPET
//! does not take them either); a 32-bit access reaches one half of the
//! 64-bit register it falls in.
//!
//! | off           | name           | reset / value                          |
//! |---------------|----------------|----------------------------------------|
//! | 0x000         | GCAP_ID        | 0x00989680_8086a201 (below)            |
//! | 0x010         | GEN_CONF       | 0; bits 0 (ENABLE_CNF), 1 (LEG_RT_CNF) |
//! | 0x020         | GEN_INT_STATUS | 0 (no interrupts modelled)             |
//! | 0x0f0         | MAIN_COUNTER   | ticks; writable while disabled         |
//! | 0x100 + 0x20n | Tn_CONF        | 0x00ff0104_00000030; mask 0x7f4e       |
//! | 0x108 + 0x20n | Tn_COMPARATOR  | all ones; 32 bits when Tn_32MODE_CNF   |
//! | 0x110 + 0x20n | Tn_FSB_ROUTE   | 0                                      |

use super::{Device, Tick};
use crate::{Result, Width};

const GCAP_ID: u64 = 0x000;
const GEN_CONF: u64 = 0x010;
const GEN_INT_STATUS: u64 = 0x020;
const MAIN_COUNTER: u64 = 0x0f0;
const TIMERS: u64 = 0x100;
const TIMER_STRIDE: u64 = 0x20;
const NUM_TIMERS: u64 = 3;

/// The counter period in femtoseconds: 10 ns a tick (100 MHz).
pub const PERIOD_FS: u64 = 10_000_000;
const NS_PER_TICK: u64 = PERIOD_FS / 1_000_000;

/// GCAP_ID as QEMU's q35 HPET reports it: revision 1,
/// NUM_TIM_CAP 2 (three timers), COUNT_SIZE_CAP (64-bit), LEG_RT_CAP,
/// vendor 0x8086; the period in the high half.
pub const CAPABILITIES: u64 = PERIOD_FS << 32 | 0x8086_a201;

const CONF_ENABLE: u64 = 1 << 0;
const CONF_LEGACY: u64 = 1 << 1;

/// Tn_CONF at reset: periodic-capable, 64-bit capable; the high half is
/// the routing capability (IRQs QEMU's q35 allows).
const TN_CONF_RESET: u64 = 0x00ff_0104_0000_0030;
/// The Tn_CONF bits a write changes (QEMU's HPET_TN_CFG_WRITE_MASK).
const TN_CONF_WRITABLE: u64 = 0x7f4e;
/// Tn_32MODE_CNF: the timer's comparator is 32 bits.
const TN_32BIT: u64 = 1 << 8;

#[derive(Clone, Copy)]
struct Comparator {
    conf: u64,
    cmp: u64,
    fsb: u64,
}

/// One simulated HPET.
pub struct Hpet {
    conf: u64,
    /// The counter when disabled; its value at `since_ns` when enabled.
    counter: u64,
    since_ns: u64,
    timers: [Comparator; NUM_TIMERS as usize],
}

impl Hpet {
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Hpet {
            conf: 0,
            counter: 0,
            since_ns: 0,
            timers: [Comparator {
                conf: TN_CONF_RESET,
                cmp: u64::MAX,
                fsb: 0,
            }; NUM_TIMERS as usize],
        }
    }

    fn enabled(&self) -> bool {
        self.conf & CONF_ENABLE != 0
    }

    /// MAIN_COUNTER at `now_ns`.
    fn count(&self, now_ns: u64) -> u64 {
        if !self.enabled() {
            return self.counter;
        }
        let ticks = now_ns.saturating_sub(self.since_ns) / NS_PER_TICK;
        self.counter.wrapping_add(ticks)
    }

    /// The timer whose register `reg` is, and the register's offset in it.
    fn timer(reg: u64) -> Option<(usize, u64)> {
        let n = reg.checked_sub(TIMERS)? / TIMER_STRIDE;
        (n < NUM_TIMERS).then(|| (n as usize, (reg - TIMERS) % TIMER_STRIDE))
    }

    /// The whole 64-bit register at `reg` (8-byte aligned).
    fn reg(&self, reg: u64, now_ns: u64) -> u64 {
        match reg {
            GCAP_ID => CAPABILITIES,
            GEN_CONF => self.conf,
            GEN_INT_STATUS => 0,
            MAIN_COUNTER => self.count(now_ns),
            _ => match Self::timer(reg) {
                Some((n, 0x0)) => self.timers[n].conf,
                Some((n, 0x8)) => self.timers[n].cmp,
                Some((n, 0x10)) => self.timers[n].fsb,
                _ => 0,
            },
        }
    }

    /// Writes `v` to the bits `mask` of the register at `reg`.
    fn set(&mut self, reg: u64, v: u64, mask: u64, now_ns: u64) {
        let merge = |old: u64| (old & !mask) | (v & mask);
        match reg {
            GEN_CONF => {
                // Freeze or restart the counter where it stands.
                self.counter = self.count(now_ns);
                self.since_ns = now_ns;
                self.conf = merge(self.conf) & (CONF_ENABLE | CONF_LEGACY);
            }
            // Writes while it runs are lost, as on QEMU.
            MAIN_COUNTER if !self.enabled() => self.counter = merge(self.counter),
            _ => match Self::timer(reg) {
                Some((n, 0x0)) => {
                    let t = &mut self.timers[n];
                    let m = mask & TN_CONF_WRITABLE;
                    t.conf = (t.conf & !m) | (v & m);
                    if t.conf & TN_32BIT != 0 {
                        t.cmp &= 0xffff_ffff;
                    }
                }
                Some((n, 0x8)) => {
                    let t = &mut self.timers[n];
                    t.cmp = merge(t.cmp);
                    if t.conf & TN_32BIT != 0 {
                        t.cmp &= 0xffff_ffff;
                    }
                }
                Some((n, 0x10)) => self.timers[n].fsb = merge(self.timers[n].fsb),
                // GCAP_ID and GEN_INT_STATUS (no interrupt to clear) are
                // read-only; the rest is reserved.
                _ => {}
            },
        }
    }
}

/// The 8-byte register `off` is in, and where in it a 32-bit access falls.
fn place(off: u64, w: Width) -> (u64, u32, u64) {
    match w {
        Width::W64 => (off, 0, u64::MAX),
        _ => (off & !7, ((off & 4) * 8) as u32, 0xffff_ffff),
    }
}

impl Device for Hpet {
    fn kind(&self) -> &str {
        "hpet"
    }

    fn widths(&self) -> &[Width] {
        &[Width::W32, Width::W64]
    }

    fn read(&mut self, off: u64, w: Width, tick: Tick) -> Result<u64> {
        let (reg, shift, mask) = place(off, w);
        Ok((self.reg(reg, tick.now_ns) >> shift) & mask)
    }

    fn write(&mut self, off: u64, w: Width, v: u64, tick: Tick) -> Result<()> {
        let (reg, shift, mask) = place(off, w);
        self.set(reg, v << shift, mask << shift, tick.now_ns);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ns: u64) -> Tick {
        Tick { now_ns: ns }
    }

    #[test]
    fn identification_as_qemu_gives_it() {
        let mut h = Hpet::new();
        assert_eq!(h.read(0x0, Width::W32, at(0)).unwrap(), 0x8086_a201);
        assert_eq!(h.read(0x4, Width::W32, at(0)).unwrap(), 0x0098_9680);
        assert_eq!(
            h.read(0x0, Width::W64, at(0)).unwrap(),
            0x0098_9680_8086_a201
        );
        assert_eq!(
            h.read(0x100, Width::W64, at(0)).unwrap(),
            0x00ff_0104_0000_0030
        );
        assert_eq!(h.read(0x108, Width::W64, at(0)).unwrap(), u64::MAX);
        assert_eq!(
            h.read(0x160, Width::W64, at(0)).unwrap(),
            0,
            "no fourth timer"
        );
        h.write(0x0, Width::W64, 0, at(0)).unwrap();
        assert_eq!(
            h.read(0x0, Width::W32, at(0)).unwrap(),
            0x8086_a201,
            "read-only"
        );
    }

    #[test]
    fn the_counter_runs_only_while_enabled() {
        let mut h = Hpet::new();
        assert_eq!(
            h.read(0xf0, Width::W64, at(5_000)).unwrap(),
            0,
            "stopped at reset"
        );
        h.write(0x10, Width::W32, 1, at(1_000)).unwrap();
        assert_eq!(h.read(0xf0, Width::W64, at(1_000)).unwrap(), 0);
        assert_eq!(
            h.read(0xf0, Width::W64, at(1_000_000 + 1_000)).unwrap(),
            100_000,
            "10 ns a tick"
        );
        // Writes while it runs are lost; disabling freezes it.
        h.write(0xf0, Width::W64, 7, at(2_000)).unwrap();
        h.write(0x10, Width::W32, 0, at(11_000)).unwrap();
        assert_eq!(h.read(0xf0, Width::W64, at(99_000)).unwrap(), 1_000);
        // Writable while stopped, one half at a time too; it goes on from there.
        h.write(0xf4, Width::W32, 1, at(99_000)).unwrap();
        assert_eq!(h.read(0xf0, Width::W64, at(99_000)).unwrap(), 0x1_0000_03e8);
        h.write(0x10, Width::W64, 3, at(100_000)).unwrap();
        assert_eq!(h.read(0x10, Width::W64, at(100_000)).unwrap(), 3);
        assert_eq!(h.read(0xf0, Width::W32, at(100_100)).unwrap(), 0x3e8 + 10);
        assert_eq!(h.read(0xf4, Width::W32, at(100_100)).unwrap(), 1);
    }

    #[test]
    fn timer_registers_keep_qemus_masks() {
        let mut h = Hpet::new();
        h.write(0x100, Width::W64, u64::MAX, at(0)).unwrap();
        assert_eq!(
            h.read(0x100, Width::W64, at(0)).unwrap(),
            0x00ff_0104_0000_7f7e
        );
        assert_eq!(
            h.read(0x108, Width::W64, at(0)).unwrap(),
            0xffff_ffff,
            "32-bit mode"
        );
        h.write(0x108, Width::W64, u64::MAX, at(0)).unwrap();
        assert_eq!(h.read(0x108, Width::W64, at(0)).unwrap(), 0xffff_ffff);
        h.write(0x130, Width::W32, 0x1234, at(0)).unwrap();
        assert_eq!(h.read(0x130, Width::W32, at(0)).unwrap(), 0x1234);
        h.write(0x20, Width::W32, u32::MAX as u64, at(0)).unwrap();
        assert_eq!(h.read(0x20, Width::W32, at(0)).unwrap(), 0);
    }
}
