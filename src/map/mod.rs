//! `memlua --map`: the memory map of the backend chosen, printed for a
//! person. The simulator's is its board's (`sim`); the native backend's is
//! what the machine shows of itself, or the size of the file standing in
//! for its memory (`native`); a QEMU machine's is QEMU's own (`qemu`).
//! Never another backend's.

mod native;
#[cfg(unix)]
mod qemu;
mod sim;

pub use native::describe as native;
#[cfg(unix)]
pub use qemu::describe as qemu;
pub use sim::describe as sim;

/// `n` bytes in the largest unit that divides them exactly.
fn size(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (unit, name) in UNITS {
        if n >= unit && n.is_multiple_of(unit) {
            return format!("{} {name}", n / unit);
        }
    }
    format!("{n} B")
}
