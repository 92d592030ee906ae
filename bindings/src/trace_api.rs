//! `trace`: the Lua side of access traces (`memlua --record` / `--replay`,
//! runtime/src/trace/). `trace.mark(text)` writes a marker line into the
//! recording, and does nothing when there is none, so the table exists on
//! every backend; [`attach`] connects a recording or replay to the state
//! for it. `require "memlua.tracefile"` serves the `memlua trace` tool.

use std::io::Write;
use std::rc::Rc;

use memlua_runtime::trace::{file, tool, Control};
use mlua::{Lua, Table, Value};

use crate::calls::api_function;
use crate::errors::{Fail, Res};
use crate::numbers::bytes_arg;

/// The recording or replay this state runs under.
struct Attached(Rc<dyn Control>);

/// The `trace` table.
pub fn table(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "mark",
        api_function(lua, |lua, text: Value| {
            let text = bytes_arg(&text, 1, "trace.mark")?;
            if let Some(a) = lua.app_data_ref::<Attached>() {
                a.0.mark(&text.to_string_lossy());
            }
            Ok(())
        })?,
    )?;
    Ok(t)
}

/// Runs the state under `control`, so that `trace.mark` reaches it. The
/// recording or replay learns where the script is as every layer does,
/// from the position `install` gives the backend (position.rs).
pub fn attach(lua: &Lua, control: Rc<dyn Control>) {
    lua.set_app_data(Attached(control));
}

fn load(path: &str) -> Res<file::Trace> {
    file::load(path).map_err(Fail::Arg)
}

/// Writes `f`'s output to stdout.
fn to_stdout(f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Res<()> {
    let stdout = std::io::stdout();
    let mut w = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    f(&mut w)
        .and_then(|()| w.flush())
        .map_err(|e| Fail::Arg(format!("cannot write the output: {e}")))
}

/// `require "memlua.tracefile"`: what `memlua trace` (scripts/trace.lua)
/// needs. Each function takes trace paths; a trace that cannot be read
/// raises its message (file and line).
fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set(
        "show",
        api_function(lua, |_, path: String| {
            let t = load(&path)?;
            to_stdout(|w| tool::show(&t, w))
        })?,
    )?;
    t.set(
        "stats",
        api_function(lua, |_, path: String| {
            let t = load(&path)?;
            to_stdout(|w| tool::stats(&t, w))
        })?,
    )?;
    t.set(
        "diff",
        api_function(lua, |_, (a, b): (String, String)| {
            let (ta, tb) = (load(&a)?, load(&b)?);
            let (same, diff) = tool::diff(&ta, &tb);
            Ok((same, diff))
        })?,
    )?;
    // qtest(path [, out]): the script to `out` (a path) or stdout; the
    // counts as a table {commands=, failed=, other_space=, not_access=,
    // not_performed=}.
    t.set(
        "qtest",
        api_function(lua, |lua, (path, out): (String, Option<String>)| {
            let t = load(&path)?;
            let n = match out {
                Some(o) => {
                    let f = std::fs::File::create(&o)
                        .map_err(|e| Fail::Arg(format!("cannot create {o}: {e}")))?;
                    let mut w = std::io::BufWriter::new(f);
                    let n = tool::qtest(&t, &mut w)
                        .and_then(|n| w.flush().map(|()| n))
                        .map_err(|e| Fail::Arg(format!("cannot write {o}: {e}")))?;
                    n
                }
                None => {
                    let mut n = tool::Exported::default();
                    to_stdout(|w| tool::qtest(&t, w).map(|x| n = x))?;
                    n
                }
            };
            let r = lua.create_table()?;
            r.set("commands", n.commands)?;
            r.set("failed", n.failed)?;
            r.set("other_space", n.other_space)?;
            r.set("not_access", n.not_access)?;
            r.set("not_performed", n.not_performed)?;
            Ok(r)
        })?,
    )?;
    Ok(t)
}

/// Registers `memlua.tracefile`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    crate::stdlib::preload(lua, "memlua.tracefile", module)
}
