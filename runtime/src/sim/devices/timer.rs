//! A free-running counter clocked from the simulator's virtual time, the
//! kind of timer (HPET main counter, ARM generic timer) that scripts read
//! to measure or wait. 32- and 64-bit accesses; both registers are
//! read-only and writes to them are ignored.
//!
//! | off | width  | name  | value                                      |
//! |-----|--------|-------|--------------------------------------------|
//! | 0x0 | 64     | COUNT | now_ns * FREQ / 1e9, wrapping at 64 bits   |
//! | 0x0 | 32     | COUNT | its low half                               |
//! | 0x4 | 32     | COUNT | its high half                              |
//! | 0x8 | 32     | FREQ  | the frequency in Hz                        |
//!
//! FREQ is a 32-bit register: a 64-bit access at 0x8 is EINVAL. The two
//! halves of COUNT are separate reads at separate instants, as on hardware;
//! read high, low, high again to get a consistent pair.

use super::{Device, Tick};
use crate::{Errno, Error, Result, Width};

const COUNT_LO: u64 = 0x0;
const COUNT_HI: u64 = 0x4;
const FREQ: u64 = 0x8;

const NS_PER_S: u128 = 1_000_000_000;

/// One simulated timer.
pub struct Timer {
    hz: u64,
}

impl Timer {
    /// The frequency a board gets when it names none: 10 MHz, a round
    /// number that still resolves 100 ns.
    pub const DEFAULT_HZ: u64 = 10_000_000;

    pub fn new(hz: u64) -> Self {
        Timer { hz }
    }

    /// COUNT at virtual time `now_ns`. The product needs up to 128 bits;
    /// the result wraps at 64 like a hardware counter.
    pub fn count(&self, now_ns: u64) -> u64 {
        (now_ns as u128 * self.hz as u128 / NS_PER_S) as u64
    }

    /// FREQ as the 32-bit register holds it: a frequency above 4 GHz
    /// saturates rather than reading as a wrong small number.
    pub fn freq(&self) -> u32 {
        u32::try_from(self.hz).unwrap_or(u32::MAX)
    }
}

fn freq_width_error() -> Error {
    Error::new(
        Errno::EINVAL,
        "",
        "FREQ is a 32-bit register (timer +0x8): use a 32-bit access",
    )
}

impl Device for Timer {
    fn kind(&self) -> &str {
        "timer"
    }

    fn widths(&self) -> &[Width] {
        &[Width::W32, Width::W64]
    }

    fn read(&mut self, off: u64, w: Width, tick: Tick) -> Result<u64> {
        Ok(match (off, w) {
            (COUNT_LO, Width::W64) => self.count(tick.now_ns),
            (COUNT_LO, _) => self.count(tick.now_ns) & 0xffff_ffff,
            (COUNT_HI, _) => self.count(tick.now_ns) >> 32,
            (FREQ, Width::W64) => return Err(freq_width_error()),
            (FREQ, _) => self.freq() as u64,
            _ => 0,
        })
    }

    fn write(&mut self, off: u64, w: Width, _v: u64, _tick: Tick) -> Result<()> {
        // Read-only registers; the width rule still holds for writes.
        if off == FREQ && w == Width::W64 {
            return Err(freq_width_error());
        }
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
    fn count_follows_virtual_time_and_frequency() {
        let mut t = Timer::new(Timer::DEFAULT_HZ);
        assert_eq!(t.read(COUNT_LO, Width::W64, at(0)).unwrap(), 0);
        assert_eq!(t.read(COUNT_LO, Width::W64, at(1_000_000)).unwrap(), 10_000);
        assert_eq!(t.read(COUNT_LO, Width::W64, at(99)).unwrap(), 0);
        assert_eq!(t.read(COUNT_LO, Width::W64, at(100)).unwrap(), 1);
        let mut slow = Timer::new(32_768);
        assert_eq!(
            slow.read(COUNT_LO, Width::W64, at(2_000_000_000)).unwrap(),
            65_536
        );
    }

    #[test]
    fn no_overflow_for_large_times() {
        let t = Timer::new(Timer::DEFAULT_HZ);
        assert_eq!(t.count(u64::MAX), u64::MAX / 100);
        let fast = Timer::new(3_000_000_000);
        assert_eq!(fast.count(10_000_000_000_000), 30_000_000_000_000);
    }

    #[test]
    fn thirty_two_bit_halves() {
        let mut t = Timer::new(1_000_000_000); // one tick per ns
        let now = at(0x1234_5678_9abc_def0);
        assert_eq!(t.read(COUNT_LO, Width::W32, now).unwrap(), 0x9abc_def0);
        assert_eq!(t.read(COUNT_HI, Width::W32, now).unwrap(), 0x1234_5678);
        assert_eq!(
            t.read(COUNT_LO, Width::W64, now).unwrap(),
            0x1234_5678_9abc_def0
        );
    }

    #[test]
    fn freq_is_32_bits_only() {
        let mut t = Timer::new(Timer::DEFAULT_HZ);
        assert_eq!(t.read(FREQ, Width::W32, at(0)).unwrap(), 10_000_000);
        let e = t.read(FREQ, Width::W64, at(0)).unwrap_err();
        assert_eq!(e.errno, Errno::EINVAL);
        assert!(e.op.is_empty());
        assert!(e.message.contains("FREQ") && e.message.contains("32-bit"));
        assert_eq!(
            t.write(FREQ, Width::W64, 0, at(0)).unwrap_err().errno,
            Errno::EINVAL
        );
        assert_eq!(Timer::new(5_000_000_000).freq(), u32::MAX);
    }

    #[test]
    fn writes_are_ignored_and_the_rest_reads_zero() {
        let mut t = Timer::new(Timer::DEFAULT_HZ);
        t.write(COUNT_LO, Width::W64, 5, at(0)).unwrap();
        t.write(FREQ, Width::W32, 5, at(0)).unwrap();
        assert_eq!(t.read(COUNT_LO, Width::W64, at(1_000)).unwrap(), 10);
        assert_eq!(t.read(FREQ, Width::W32, at(0)).unwrap(), 10_000_000);
        assert_eq!(t.read(0xc, Width::W32, at(0)).unwrap(), 0);
        assert_eq!(t.read(0x10, Width::W64, at(0)).unwrap(), 0);
        assert_eq!(t.read(0xff8, Width::W64, at(0)).unwrap(), 0);
    }
}
