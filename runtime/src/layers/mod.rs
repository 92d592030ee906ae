//! The layers the command line stacks around a backend (docs/DESIGN.md,
//! Layers), one concern per file, outermost first:
//!
//! - `restore`: `--restore-ranges`, memory ranges given back at the end
//!   of the run (and the journal `memrange.scoped` uses);
//! - `allow`: `--allow`, `--allow-write`, `--policy`: accesses outside the
//!   listed physical ranges refused with EACCES before they reach anything;
//! - `dry_run`: `--dry-run`, writes and range changes reported, not done.

pub mod allow;
pub mod dry_run;
pub mod restore;

pub use allow::Allow;
pub use dry_run::DryRun;
pub use restore::{Journal, RestoreRanges};

use crate::Position;

/// Where the script is, for a layer's message: ` (uart.lua:12)`, or
/// nothing when no script line runs (or the layer was given no way to
/// know).
fn at(position: &Option<Position>) -> String {
    match position.as_ref().and_then(|p| p()) {
        Some(p) => format!(" ({p})"),
        None => String::new(),
    }
}
