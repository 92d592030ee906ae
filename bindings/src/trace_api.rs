//! `trace`: the Lua side of access traces (`memlua --record` / `--replay`,
//! runtime/src/trace/). `trace.mark(text)` writes a marker line into the
//! recording, and does nothing when there is none, so the table exists on
//! every backend. [`attach`] connects a recording or replay to the state
//! and tells it where the script is (`src` of each line), which the layers
//! below the API cannot see. `require "memlua.tracefile"` serves the
//! `memlua trace` tool.

use std::ffi::CStr;
use std::io::Write;
use std::rc::Rc;

use memlua_runtime::trace::{file, tool, Control, Position};
use mlua::{ffi, Lua, Table, Value};

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

/// Runs the state under `control`: `trace.mark` reaches it, and it learns
/// each operation's script position from this state.
pub fn attach(lua: &Lua, control: Rc<dyn Control>) -> mlua::Result<()> {
    control.set_position(Some(position(lua)?));
    lua.set_app_data(Attached(control));
    Ok(())
}

/// The running script's position, read from the main thread's call stack:
/// the first Lua frame above the API call that is not memlua's own stdlib
/// (a `poll.wait` is reported where the script called it), else the first
/// in the stdlib. A coroutine's accesses are reported where it was
/// resumed: the main thread's stack is the one read.
fn position(lua: &Lua) -> mlua::Result<Position> {
    let main = crate::state::main_thread(lua)?;
    let weak = lua.weak();
    Ok(Box::new(move |out: &mut String| {
        // The state closing (its Lua value gone) has no script running.
        let Some(_alive) = weak.try_upgrade() else {
            return;
        };
        // SAFETY: `main` is the main thread of the state `_alive` keeps
        // open; this runs inside an API call on it (a recorder or replay
        // asks while it handles the call), when its call stack is
        // consistent. lua_getstack and lua_getinfo("Sl") only read that
        // stack and push nothing.
        unsafe { script_position(main, out) }
    }))
}

/// Appends the position of the first Lua frame of `l` above the API call
/// (level 1 up) that is script code, or failing that of the first in
/// memlua's stdlib; memlua's own wrappers are passed over. Writes straight
/// into `out`: this runs for every line a recording writes.
///
/// # Safety
/// `l` is a live thread whose call stack is consistent (see `position`).
unsafe fn script_position(l: *mut ffi::lua_State, out: &mut String) {
    let start = out.len();
    let mut have_library = false;
    for level in 1..256 {
        // SAFETY: the caller's promise; a zeroed lua_Debug is what
        // lua_getstack fills, and the strings lua_getinfo points at live
        // in the running function's prototype and in `ar`.
        unsafe {
            let mut ar: ffi::lua_Debug = std::mem::zeroed();
            if ffi::lua_getstack(l, level, &mut ar) == 0 {
                return;
            }
            if ffi::lua_getinfo(l, c"Sl".as_ptr(), &mut ar) == 0 || ar.currentline < 0 {
                continue; // a C function
            }
            let source = if ar.source.is_null() {
                &[][..]
            } else {
                CStr::from_ptr(ar.source).to_bytes()
            };
            if source == b"=docall" || source == b"=os.exit" {
                continue;
            }
            let library = source.starts_with(b"@stdlib/");
            if library && have_library {
                continue;
            }
            out.truncate(start);
            out.push_str(&CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy());
            out.push(':');
            push_int(out, ar.currentline);
            if !library {
                return;
            }
            have_library = true;
        }
    }
}

fn push_int(out: &mut String, v: i32) {
    use std::fmt::Write as _;
    let _ = write!(out, "{v}");
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
    // counts as a table {commands=, failed=, other_space=, not_access=}.
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
            Ok(r)
        })?,
    )?;
    Ok(t)
}

/// Registers `memlua.tracefile`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    crate::stdlib::preload(lua, "memlua.tracefile", module)
}
