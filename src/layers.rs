//! The layers the command line puts around the backend, always in one
//! order (docs/DESIGN.md, "Layers"), outermost first:
//!
//! 1. `--restore-ranges`: gives back at the end every memory range the run
//!    changed, whichever layer below let the change through;
//! 2. `--allow`, `--allow-write`, `--policy`: refuse what is outside the
//!    lists before any layer below (the recorder, the device) sees it;
//! 3. the recorder (`--record FILE`): writes every access to the trace;
//! 4. `--dry-run`: writes and range changes reported, not made, below the
//!    recorder, so a trace shows what would have happened;
//! 5. the backend: a machine, or `--replay FILE`'s trace.
//!
//! [`open`] builds the stack from the bottom up, each layer wrapped around
//! what is below it. A new layer is one more step at its place in that
//! order, taking its options from the [`Invocation`].

use std::io::Write as _;
use std::rc::Rc;

use memlua_runtime::layers::allow::{parse_policy, ListSpec};
use memlua_runtime::layers::{Allow, DryRun, RestoreRanges};
use memlua_runtime::trace::Control;
use memlua_runtime::{Backend, Say};

use crate::backend::{self, Choice, OpenError};
use crate::cli::{Invocation, Usage};

/// The backend with its layers, the recording or replay running, if any
/// (the program finishes it at exit), and whether a layer has work to do
/// when the run ends (`memlua_bindings::finish_on_exit`).
pub struct Stack {
    pub backend: Box<dyn Backend>,
    pub trace: Option<Rc<dyn Control>>,
    pub finishing: bool,
}

/// Why the stack could not be built: the backend's error, or an option
/// (an allow-list, a policy file) that cannot be read.
pub enum StackError {
    Open(OpenError),
    Usage(Usage),
}

impl From<OpenError> for StackError {
    fn from(e: OpenError) -> Self {
        StackError::Open(e)
    }
}

impl From<Usage> for StackError {
    fn from(e: Usage) -> Self {
        StackError::Usage(e)
    }
}

/// Opens the backend chosen and wraps the layers `inv` asks for.
pub fn open(choice: &Choice, inv: &Invocation) -> Result<Stack, StackError> {
    // The lists are read first: a bad RANGE opens nothing.
    let lists = allow_lists(inv)?;
    // 5. The backend.
    let (mut backend, mut trace) = match choice {
        Choice::Replay { file, mode } => {
            let t = backend::open_replay(file, *mode)?;
            (t.backend, Some(t.trace))
        }
        other => (backend::open(other)?, None),
    };
    // 4. The dry run.
    if inv.dry_run {
        backend = Box::new(DryRun::new(backend, stderr()));
    }
    // 3. The recorder.
    if let Some(path) = &inv.record {
        let t = crate::trace::recorder(backend, path, choice, inv)?;
        backend = t.backend;
        trace = Some(t.trace);
    }
    // 2. The allow-lists.
    if !lists.is_empty() {
        backend = Box::new(Allow::new(backend, &lists).map_err(Usage)?);
    }
    // 1. Memory ranges put back.
    if inv.restore_ranges {
        backend = Box::new(RestoreRanges::new(backend, stderr()));
    }
    Ok(Stack {
        backend,
        trace,
        finishing: inv.dry_run || inv.restore_ranges,
    })
}

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
