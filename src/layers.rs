//! The layers the command line puts around the backend, always in one
//! order (docs/DESIGN.md, "Layers"), outermost first:
//!
//! 1. restore-ranges (planned): puts memory ranges back at exit;
//! 2. allow-list (planned): refuses an access before the recorder sees it;
//! 3. recorder (`--record FILE`): writes every access to the trace;
//! 4. dry run (planned): below the recorder, so a trace shows what would
//!    have happened;
//! 5. the backend: a machine, or `--replay FILE`'s trace.
//!
//! [`open`] builds the stack from the bottom up, each layer wrapped around
//! what is below it. A new layer is one more step at its place in that
//! order, taking its options from the [`Invocation`].

use std::rc::Rc;

use memlua_runtime::trace::Control;
use memlua_runtime::Backend;

use crate::backend::{self, Choice, OpenError};
use crate::cli::Invocation;

/// The backend with its layers, and the recording or replay running, if
/// any (the program finishes it at exit).
pub struct Stack {
    pub backend: Box<dyn Backend>,
    pub trace: Option<Rc<dyn Control>>,
}

/// Opens the backend chosen and wraps the layers `inv` asks for.
pub fn open(choice: &Choice, inv: &Invocation) -> Result<Stack, OpenError> {
    // 5. The backend.
    let (mut backend, mut trace) = match choice {
        Choice::Replay { file, mode } => {
            let t = backend::open_replay(file, *mode)?;
            (t.backend, Some(t.trace))
        }
        other => (backend::open(other)?, None),
    };
    // 4. Dry run: planned.
    // 3. The recorder.
    if let Some(path) = &inv.record {
        let t = crate::trace::recorder(backend, path, choice, inv)?;
        backend = t.backend;
        trace = Some(t.trace);
    }
    // 2. Allow-list, 1. restore-ranges: planned.
    Ok(Stack { backend, trace })
}
