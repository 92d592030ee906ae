//! Running one tests/lua suite, shared by tests/lua_suites.rs (simulator)
//! and tests/lua_native.rs (native backend over a file): the assertion
//! helpers of prelude.lua with a failure recorder, `add_stdlib_module`,
//! the harness's `new_session`, the suite itself and a final collection.
//! A `*_test.lua` suite is written for `memlua test` (describe/it); it runs
//! through the same Lua runner here, so it is also proven behind layers
//! and on the native backend.

use std::cell::RefCell;
use std::path::Path;
use std::rc::Rc;

use memlua_bindings::memlua_runtime::Backend;
use mlua::{Lua, Table};

/// Runs `file` on `backend`; `new_session(lua, board, opts)` makes the API
/// of another session for the suite. The failures, each
/// `file:line: message`.
pub fn run(
    file: &str,
    backend: mlua::Result<Box<dyn Backend>>,
    new_session: impl Fn(&Lua, String, Option<Table>) -> mlua::Result<Table> + 'static,
) -> Vec<String> {
    let failures = Rc::new(RefCell::new(Vec::<String>::new()));
    let outcome = (|| -> mlua::Result<()> {
        // A state as memlua itself opens one, `debug` included.
        let lua = memlua_bindings::new_state()?;
        memlua_bindings::install(&lua, backend?)?;
        let f = failures.clone();
        let fail = lua.create_function(move |lua, (msg, level): (String, usize)| {
            let place = lua
                .inspect_stack(level, |d| {
                    let src = d.source().short_src.map(|s| s.into_owned());
                    format!(
                        "{}:{}",
                        src.unwrap_or_else(|| "?".into()),
                        d.current_line().unwrap_or(0)
                    )
                })
                .unwrap_or_else(|| "?".into());
            f.borrow_mut().push(format!("{place}: {msg}"));
            Ok(())
        })?;
        lua.load(include_str!("prelude.lua"))
            .set_name("=prelude")
            .call::<()>(fail)?;
        lua.globals().set(
            "new_session",
            lua.create_function(move |lua, (board, opts): (String, Option<Table>)| {
                new_session(lua, board, opts)
            })?,
        )?;
        lua.globals().set(
            "add_stdlib_module",
            lua.create_function(|lua, (name, src): (String, String)| {
                memlua_bindings::stdlib::add_module(lua, &name, &src)
            })?,
        )?;
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/lua")
            .join(file);
        let src = std::fs::read_to_string(&path).map_err(mlua::Error::external)?;
        let chunk = lua
            .load(src)
            .set_name(format!("@tests/lua/{file}"))
            .into_function()?;
        if file.ends_with("_test.lua") {
            // A suite in `memlua test`'s form: its own runner
            // (stdlib/test.lua) runs it, and each failed or errored test
            // is a failure here.
            let f = failures.clone();
            let report = lua.create_function(move |_, r: Table| {
                let status: String = r.get("status")?;
                if status == "fail" || status == "error" {
                    let name: Vec<String> = r
                        .get::<Table>("name")?
                        .sequence_values()
                        .collect::<mlua::Result<_>>()?;
                    f.borrow_mut().push(format!(
                        "{}: {}: {}",
                        r.get::<Option<String>>("at")?.unwrap_or_else(|| "?".into()),
                        name.join(" > "),
                        r.get::<Option<String>>("message")?.unwrap_or_default()
                    ));
                }
                Ok(())
            })?;
            let require: mlua::Function = lua.globals().get("require")?;
            let runner: Table = require.call("memlua.test")?;
            let opts = lua.create_table()?;
            opts.set("chunk", chunk)?;
            opts.set("name", format!("tests/lua/{file}"))?;
            opts.set("report", report)?;
            runner.get::<mlua::Function>("run_file")?.call::<()>(opts)?;
        } else {
            chunk.call::<()>(())?;
        }
        // A suite ends with a full collection, so __gc paths run too.
        lua.gc_collect()?;
        Ok(())
    })();
    let mut out = failures.borrow().clone();
    if let Err(e) = outcome {
        out.push(format!("tests/lua/{file}: the suite stopped: {e}"));
    }
    out
}

/// Fails the test with every failure of the suite, if any.
pub fn report(file: &str, where_: &str, failures: Vec<String>) {
    if !failures.is_empty() {
        panic!(
            "{} failed assertion(s) in {file}{where_}:\n  {}",
            failures.len(),
            failures.join("\n  ")
        );
    }
}

/// `opts.nosim` of `new_session(board, opts)`.
pub fn nosim(opts: &Option<Table>) -> mlua::Result<bool> {
    match opts {
        Some(o) => Ok(o.get::<Option<bool>>("nosim")?.unwrap_or(false)),
        None => Ok(false),
    }
}
