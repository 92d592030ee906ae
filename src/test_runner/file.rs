//! One test file on one backend: a fresh Lua state over a freshly opened
//! backend (a new simulated board each time, so nothing a file writes or
//! sets reaches the next), the file loaded, and stdlib/test.lua's
//! `run_file` declaring and running its tests; each result goes to
//! `report` as it comes.

use std::path::Path;

use crate::interp::Failure;
use crate::layers::Stack;

use memlua_runtime::Errno;
use mlua::{Function, Lua, Table, Value};

use super::outcome::{Outcome, Status};
use super::timeout;

/// What every file of a run shares.
pub struct Settings {
    pub filter: Option<String>,
    pub list: bool,
    pub seed: i64,
    /// Seconds per test; None: no limit.
    pub timeout: Option<f64>,
    /// `-W`: Lua warnings on.
    pub warnings: bool,
}

/// Runs `path` (named `name` in results) on `stack`: the backend with the
/// layers the options ask for (a replay, a recording, a dry run, ...). A
/// file that cannot be read, loaded or set up gives one error result,
/// `(load)`; a recording or replay that ends badly (a replay with
/// operations left over) one more, `(trace)`.
pub fn run(
    path: &Path,
    name: &str,
    backend_name: Option<&str>,
    stack: Stack,
    settings: &Settings,
    report: &mut dyn FnMut(Outcome),
) {
    let blank = load_error(name, backend_name, None);
    let trace = stack.trace.clone();
    let result = (|| -> Result<(), String> {
        let code = std::fs::read(path).map_err(|e| format!("cannot read {name}: {e}"))?;
        let lua = memlua_bindings::new_state().map_err(|e| e.to_string())?;
        memlua_bindings::install(&lua, stack.backend).map_err(|e| e.to_string())?;
        if let Some(t) = &stack.trace {
            crate::trace::attach(&lua, t.clone()).map_err(|e| e.to_string())?;
        }
        if settings.warnings {
            memlua_bindings::state::warnings_on(&lua).map_err(|e| e.to_string())?;
        }
        let outcome = run_in(&lua, path, name, &code, settings, &blank, report);
        timeout::disarm();
        // The layers' end (ranges put back, a dry run's count) as for a
        // script; the file's state then goes.
        if stack.finishing {
            memlua_bindings::finish(&lua);
        }
        outcome.map_err(|e| crate::interp::load_message(&e))
    })();
    if let Err(message) = result {
        report(Outcome {
            message: Some(message),
            ..blank.clone()
        });
    }
    if let Err(Failure(m)) = crate::trace::finish(trace.as_deref(), Ok(())) {
        report(Outcome {
            name: vec!["(trace)".into()],
            message: Some(m),
            ..blank
        });
    }
}

/// The one result of a file whose backend could not be opened.
pub fn run_failed(
    name: &str,
    backend_name: Option<&str>,
    message: String,
    report: &mut dyn FnMut(Outcome),
) {
    report(load_error(name, backend_name, Some(message)));
}

fn load_error(name: &str, backend_name: Option<&str>, message: Option<String>) -> Outcome {
    Outcome {
        backend: backend_name.map(str::to_string),
        file: name.to_string(),
        name: vec!["(load)".into()],
        status: Status::Error,
        timeout: false,
        message,
        at: None,
        expected: None,
        actual: None,
        stack: None,
        output: String::new(),
        time: 0.0,
    }
}

fn run_in(
    lua: &Lua,
    path: &Path,
    name: &str,
    code: &[u8],
    settings: &Settings,
    blank: &Outcome,
    report: &mut dyn FnMut(Outcome),
) -> mlua::Result<()> {
    let g = lua.globals();
    // Modules beside the test file are found by `require`.
    if let Some(dir) = path.parent().and_then(Path::to_str) {
        let package: Table = g.get("package")?;
        let dir = if dir.is_empty() { "." } else { dir };
        let old: String = package.get("path")?;
        package.set("path", format!("{dir}/?.lua;{dir}/?/init.lua;{old}"))?;
    }
    let chunk = lua
        .load(skip_shebang(code))
        .set_name(format!("@{name}"))
        .into_function()?;
    let require: Function = g.get("require")?;
    let module: Table = require.call("memlua.test")?;
    let errnos: Vec<&str> = Errno::ALL.iter().map(|e| e.name()).collect();
    module.get::<Function>("set_errnos")?.call::<()>(errnos)?;

    let opts = lua.create_table()?;
    opts.set("chunk", chunk)?;
    opts.set("name", name)?;
    opts.set("filter", settings.filter.as_deref())?;
    opts.set("list", settings.list)?;
    opts.set("seed", settings.seed)?;
    if let Some(t) = settings.timeout {
        opts.set("timeout", t)?;
        // SAFETY: `timeout::arm` is a lua_CFunction that reads one number
        // and sets a hook on the thread calling it; nothing else.
        opts.set("arm", unsafe { lua.create_c_function(timeout::arm) }?)?;
        opts.set(
            "timed_out",
            lua.create_function(|_, ()| Ok(timeout::fired()))?,
        )?;
    }
    let run_file: Function = module.get("run_file")?;
    lua.scope(|scope| {
        let sink = scope.create_function_mut(|_, t: Table| {
            report(outcome_of(&t, blank)?);
            Ok(())
        })?;
        opts.set("report", sink)?;
        run_file.call::<()>(&opts)
    })
}

/// A first line starting with '#' (`#!/usr/bin/env memlua`) is skipped as
/// lua.c skips it, its newline kept so line numbers stay right.
fn skip_shebang(code: &[u8]) -> &[u8] {
    if code.first() == Some(&b'#') {
        let end = code.iter().position(|&b| b == b'\n').unwrap_or(code.len());
        &code[end..]
    } else {
        code
    }
}

fn text(t: &Table, key: &str) -> mlua::Result<Option<String>> {
    Ok(match t.get::<Value>(key)? {
        Value::String(s) => Some(s.to_string_lossy()),
        Value::Nil => None,
        other => Some(format!("{other:?}")),
    })
}

/// A result table of stdlib/test.lua's `run_file` as an Outcome.
fn outcome_of(t: &Table, blank: &Outcome) -> mlua::Result<Outcome> {
    let name: Vec<String> = t
        .get::<Table>("name")?
        .sequence_values::<mlua::LuaString>()
        .map(|s| s.map(|s| s.to_string_lossy()))
        .collect::<mlua::Result<_>>()?;
    let status = match text(t, "status")?.as_deref() {
        Some("pass") | Some("listed") => Status::Pass,
        Some("fail") => Status::Fail,
        Some("skip") => Status::Skip,
        Some("todo") => Status::Todo,
        _ => Status::Error,
    };
    Ok(Outcome {
        name,
        status,
        timeout: text(t, "kind")?.as_deref() == Some("timeout"),
        message: text(t, "message")?,
        at: text(t, "at")?,
        expected: text(t, "expected")?,
        actual: text(t, "actual")?,
        stack: text(t, "stack")?.filter(|s| !s.is_empty()),
        output: text(t, "output")?.unwrap_or_default(),
        time: t.get::<Option<f64>>("time")?.unwrap_or(0.0),
        ..blank.clone()
    })
}
