//! Simulated MMIO devices. Each one answers accesses at an offset inside its
//! window; the physical space has already checked the bounds, that the width
//! is one the device declares and that the access is naturally aligned.
//! Offsets past a device's registers read as zero and ignore writes.

use crate::{Result, Width};

mod dma;
mod framebuffer;
mod hpet;
mod pl011;
mod scratch;
mod timer;
mod uart16550;

pub use dma::Dma;
pub use framebuffer::Framebuffer;
pub use hpet::Hpet;
pub use pl011::Pl011;
pub use scratch::Scratch;
pub use timer::Timer;
pub use uart16550::Uart16550;

use super::ram::SparseMem;

/// What a device sees of the machine during one access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tick {
    /// The virtual clock in nanoseconds, already advanced for this access.
    pub now_ns: u64,
}

/// A copy a device asks the machine to do in physical space (a DMA engine
/// cannot borrow the space it sits in, so it asks and is told the outcome).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DmaRequest {
    pub src: u64,
    pub dst: u64,
    pub len: u64,
}

/// One simulated device.
pub trait Device {
    /// The model, as boards name it: `uart16550`, `timer`, ...
    fn kind(&self) -> &str;
    /// The widths this device accepts; any other width is EINVAL.
    fn widths(&self) -> &[Width];
    /// One read of width `w` at `off` (aligned, inside the window).
    /// Errors leave `op` empty and no subject: the space fills them in.
    fn read(&mut self, off: u64, w: Width, tick: Tick) -> Result<u64>;
    /// One write of width `w` at `off`; `v` already fits in `w`.
    fn write(&mut self, off: u64, w: Width, v: u64, tick: Tick) -> Result<()>;

    /// Bytes transmitted so far (UARTs), for `sim.output`.
    fn output(&self) -> Option<&[u8]> {
        None
    }
    /// Device memory that behaves like RAM (a framebuffer): bulk transfers
    /// then copy directly instead of going register by register.
    fn memory(&mut self) -> Option<&mut SparseMem> {
        None
    }
    /// A copy the device wants done, taken once after each write.
    fn take_dma(&mut self) -> Option<DmaRequest> {
        None
    }
    /// The outcome of the copy handed out by `take_dma`.
    fn dma_done(&mut self, _ok: bool) {}
}

/// Checks a board's device entry without building anything, so a board is
/// refused before its devices cost memory. `size` is the window, already
/// checked to be page-aligned and non-zero; every register file fits in
/// the smallest window (4 KiB).
pub fn check(kind: &str, size: u64, freq_hz: Option<u64>) -> Result<(), String> {
    check_kind(kind)?;
    if freq_hz.is_some() && kind != "timer" {
        return Err(format!(
            "a {kind} has no frequency; only a timer takes `frequency`"
        ));
    }
    if let Some(hz) = freq_hz {
        // FREQ is a 32-bit register, and a timer that never ticks would
        // hang every delay loop.
        if hz == 0 || hz > u64::from(u32::MAX) {
            return Err(format!(
                "frequency {hz} is out of range; expected 1 to {} Hz (FREQ is a 32-bit register)",
                u32::MAX
            ));
        }
    }
    if kind == "framebuffer" && size > Framebuffer::MAX_SIZE {
        return Err(format!(
            "framebuffer size {size:#x} is too big; expected at most {:#x} (16 TiB)",
            Framebuffer::MAX_SIZE
        ));
    }
    Ok(())
}

/// Builds a device of a board's `kind`, or says why it cannot (`check`).
/// `freq_hz` is the timer's frequency (ignored by other kinds).
pub fn build(kind: &str, size: u64, freq_hz: Option<u64>) -> Result<Box<dyn Device>, String> {
    check(kind, size, freq_hz)?;
    Ok(match kind {
        "uart16550" => Box::new(Uart16550::new()),
        "pl011" => Box::new(Pl011::new()),
        "timer" => Box::new(Timer::new(freq_hz.unwrap_or(Timer::DEFAULT_HZ))),
        "dma" => Box::new(Dma::new()),
        "scratch" => Box::new(Scratch::new()),
        "framebuffer" => Box::new(Framebuffer::new(size)),
        "hpet" => Box::new(Hpet::new()),
        other => return Err(unknown_kind(other)),
    })
}

/// Whether `kind` is one `build` knows; if not, says which are.
pub fn check_kind(kind: &str) -> Result<(), String> {
    if KINDS.contains(&kind) {
        Ok(())
    } else {
        Err(unknown_kind(kind))
    }
}

/// Names the kinds, and the one meant when `kind` is a slip of the keys.
fn unknown_kind(kind: &str) -> String {
    let near = KINDS
        .iter()
        .map(|k| (edit_distance(kind, k), k))
        // At most one slip per three letters: "timr", "framebufer", but not
        // "x" for "dma".
        .filter(|&(d, k)| d > 0 && d * 3 <= k.len())
        .min();
    let hint = near.map_or(String::new(), |(_, k)| format!("did you mean '{k}'? "));
    format!(
        "unknown device kind '{kind}' ({hint}expected one of: {})",
        KINDS.join(", ")
    )
}

/// Levenshtein distance, for suggesting a kind.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diag + usize::from(ca != cb))
                .min(row[j] + 1)
                .min(row[j + 1] + 1);
            diag = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// Every kind `build` knows.
pub const KINDS: [&str; 7] = [
    "uart16550",
    "pl011",
    "timer",
    "dma",
    "scratch",
    "framebuffer",
    "hpet",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_near_miss_kind_is_named() {
        let e = check("timr", 0x1000, None).unwrap_err();
        assert!(
            e.starts_with("unknown device kind 'timr' (did you mean 'timer'? "),
            "{e}"
        );
        let e = check("ne2000", 0x1000, None).unwrap_err();
        assert!(!e.contains("did you mean"), "{e}");
        assert!(!check("x", 0x1000, None)
            .unwrap_err()
            .contains("did you mean"));
        assert_eq!(edit_distance("", "dma"), 3);
        assert_eq!(edit_distance("uart16450", "uart16550"), 1);
    }

    #[test]
    fn an_absurd_framebuffer_is_refused_unbuilt() {
        assert!(check("framebuffer", 0xFFFF_FFFF_FFFF_F000, None)
            .unwrap_err()
            .contains("too big"));
        assert!(build("framebuffer", u64::MAX, None).is_err());
        assert!(check("framebuffer", Framebuffer::MAX_SIZE, None).is_ok());
    }
}
