//! The program's side of `--record` and `--replay` (the layers are in
//! runtime/src/trace/): the trace header, connecting the recording or
//! replay to the Lua state, and finishing it however the run ends (at
//! the end of the run, on an error or Ctrl-C, and in `os.exit`), so the
//! trace is complete and a replay's last check runs.

use std::rc::Rc;

use memlua_runtime::trace::file::{self, Header, Region};
use memlua_runtime::trace::record::Recorder;
use memlua_runtime::trace::{Control, End, How};
use memlua_runtime::Backend;
use mlua::{Function, Lua, Table, Value};

use crate::backend::{Choice, OpenError};
use crate::cli::Invocation;
use crate::interp::Failure;

/// A backend under a recording or a replay, and the handle to finish it.
pub struct Traced {
    pub backend: Box<dyn Backend>,
    pub trace: Rc<dyn Control>,
}

/// `inner` wrapped in a recorder writing to `path`, and its handle.
pub fn recorder(
    mut inner: Box<dyn Backend>,
    path: &str,
    choice: &Choice,
    inv: &Invocation,
) -> Result<Traced, OpenError> {
    let argv = inv
        .argv
        .iter()
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let mut header = Header::new(inner.name(), inner.board(), inner.writable(), argv);
    header.regions = regions(&mut *inner, choice);
    let (rec, handle) = Recorder::create(inner, path, &header).map_err(OpenError::Failed)?;
    Ok(Traced {
        backend: Box::new(rec),
        trace: handle,
    })
}

/// What the backend knows of its physical map, for `trace show`: the
/// simulator's regions, the --mem file's extent, or /proc/iomem's.
fn regions(backend: &mut dyn Backend, choice: &Choice) -> Vec<Region> {
    if let Some(sim) = backend.as_sim() {
        return sim
            .regions()
            .into_iter()
            .map(|r| Region {
                base: r.base,
                size: r.size,
                name: r.name,
                kind: Some(r.kind),
                depth: 0,
            })
            .collect();
    }
    let Choice::Native { mem, .. } = choice else {
        return Vec::new();
    };
    if let Some(path) = mem {
        return match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() > 0 => vec![Region {
                base: 0,
                size: m.len(),
                name: path
                    .file_name()
                    .map_or_else(|| path.to_string_lossy(), |n| n.to_string_lossy())
                    .into_owned(),
                kind: Some("file".into()),
                depth: 0,
            }],
            _ => Vec::new(),
        };
    }
    #[cfg(unix)]
    {
        let text = std::fs::read_to_string("/proc/iomem").unwrap_or_default();
        memlua_runtime::native::iomem::parse(&text)
            .into_iter()
            // Without root the kernel shows every address as 0.
            .filter(|r| r.end > r.start)
            .map(|r| Region {
                base: r.start,
                size: (r.end - r.start).saturating_add(1),
                name: r.name,
                kind: None,
                depth: r.depth,
            })
            .collect()
    }
    #[cfg(not(unix))]
    Vec::new()
}

/// Connects `control` to the state: `trace.mark`, and `os.exit`, which
/// finishes the trace before the process ends (C's exit skips everything
/// memlua would do after the script). Script positions come to the
/// recording or replay as to every layer, through `Backend::set_position`.
pub fn attach(lua: &Lua, control: Rc<dyn Control>) -> mlua::Result<()> {
    memlua_bindings::attach_trace(lua, control.clone());
    let Ok(os) = lua.globals().get::<Table>("os") else {
        return Ok(());
    };
    let exit: Function = os.get("exit")?;
    // The status os.exit will give, as it reads its argument; None for an
    // argument it refuses (it raises, and the run goes on).
    let finish = lua.create_function(move |_, code: Value| {
        let status = match code {
            Value::Nil | Value::Boolean(true) => Some(0),
            Value::Boolean(false) => Some(1),
            Value::Integer(n) => i32::try_from(n).ok(),
            Value::Number(f) if f.fract() == 0.0 => Some(f as i32),
            Value::String(s) => s.to_str().ok().and_then(|s| s.trim().parse().ok()),
            _ => None,
        };
        let Some(status) = status else {
            return Ok(None);
        };
        match control.finish(&End {
            status,
            how: How::Exit,
        }) {
            Ok(()) => Ok(None),
            Err(m) => {
                eprintln!("memlua: {m}");
                Ok(Some(1))
            }
        }
    })?;
    let wrapper: Function = lua
        .load(
            "local exit, finish = ...\n\
             return function(code, close)\n\
               local status = finish(code)\n\
               if status then code = status end\n\
               return exit(code, close)\n\
             end",
        )
        .set_name("=os.exit")
        .call((exit, finish))?;
    os.set("exit", wrapper)
}

/// Finishes the trace at the end of a run that ended with `outcome`: the
/// run's failure, the trace's, or both.
pub fn finish(control: Option<&dyn Control>, outcome: Result<(), Failure>) -> Result<(), Failure> {
    let Some(c) = control else {
        return outcome;
    };
    let end = match &outcome {
        Ok(()) => End {
            status: 0,
            how: How::Returned,
        },
        Err(Failure(m)) => End {
            status: 1,
            how: How::Failed(m.lines().next().unwrap_or("").to_string()),
        },
    };
    match (outcome, c.finish(&end)) {
        (outcome, Ok(())) => outcome,
        (Ok(()), Err(m)) => Err(Failure(m)),
        // The run stopped on the replay's own error: said once.
        (Err(Failure(f)), Err(m)) if f.contains(&m) => Err(Failure(f)),
        (Err(Failure(f)), Err(m)) => Err(Failure(format!("{f}\nmemlua: {m}"))),
    }
}

/// `--map` with `--replay`: what the trace's header says of the machine.
pub fn map(path: &str) -> Result<String, String> {
    let t = file::load(path)?;
    let h = &t.header;
    let mut out = format!(
        "replay of {path}: {}\n",
        memlua_runtime::trace::tool::summary(&t)
    );
    if h.regions.is_empty() {
        out.push_str("  the recording kept no memory map\n");
    }
    for r in &h.regions {
        let kind = r
            .kind
            .as_deref()
            .map_or(String::new(), |k| format!(" ({k})"));
        out.push_str(&format!(
            "  {}{:#012x}-{:#012x}  {}{kind}\n",
            "  ".repeat(r.depth),
            r.base,
            r.base.wrapping_add(r.size).wrapping_sub(1),
            r.name
        ));
    }
    Ok(out)
}
