//! The layers the command line asks for, stacked around the backend in
//! one fixed order (docs/DESIGN.md, Layers), outermost first:
//!
//! 1. `--restore-ranges`: gives back at the end every memory range the run
//!    changed, whichever layer below let the change through;
//! 2. `--allow`, `--allow-write`, `--policy`: refuse what is outside the
//!    lists before any layer below (or the device) sees it;
//! 3. the recorder (`--record`, another branch's);
//! 4. `--dry-run`: writes and range changes reported, not made, so a
//!    trace above it shows what would have happened;
//! 5. the backend.

use std::io::Write as _;
use std::rc::Rc;

use memlua_runtime::layers::allow::{parse_policy, ListSpec};
use memlua_runtime::layers::{Allow, DryRun, RestoreRanges};
use memlua_runtime::{Backend, Say};

use crate::cli::{Invocation, Usage};

/// Lines a layer says go to stderr as they come.
fn stderr() -> Say {
    Rc::new(|line: &str| {
        let _ = writeln!(std::io::stderr(), "{line}");
    })
}

/// The allow-lists of the command line and of `--policy`; a RANGE that
/// cannot be read, or a policy file that cannot, is a usage error.
fn allow_lists(inv: &Invocation) -> Result<Vec<ListSpec>, Usage> {
    let mut specs = Vec::new();
    for (opt, given, writes_only) in [
        ("--allow", &inv.allow, false),
        ("--allow-write", &inv.allow_write, true),
    ] {
        if !given.is_empty() {
            specs.push(ListSpec::parse(opt, &given.join(","), writes_only).map_err(Usage)?);
        }
    }
    if let Some(path) = &inv.policy {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| Usage(format!("--policy: cannot read {shown}: {e}")))?;
        specs.extend(parse_policy(&shown, &text).map_err(|e| Usage(format!("--policy: {e}")))?);
    }
    Ok(specs)
}

/// `backend` with the layers `inv` asks for, and whether any of them has
/// work to do when the run ends (`memlua_bindings::finish`).
pub fn stack(
    backend: Box<dyn Backend>,
    inv: &Invocation,
) -> Result<(Box<dyn Backend>, bool), Usage> {
    let mut b = backend;
    if inv.dry_run {
        b = Box::new(DryRun::new(b, stderr()));
    }
    let lists = allow_lists(inv)?;
    if !lists.is_empty() {
        b = Box::new(Allow::new(b, &lists).map_err(Usage)?);
    }
    if inv.restore_ranges {
        b = Box::new(RestoreRanges::new(b, stderr()));
    }
    Ok((b, inv.dry_run || inv.restore_ranges))
}
