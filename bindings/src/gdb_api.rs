//! `gdb.*`, the controls of the GDB stub behind the `gdb` backend
//! (docs/API.md, The session): monitor commands, halting and resuming the
//! target, its registers. Every call exists on every backend and fails
//! with EOPNOTSUPP off the `gdb` backend, as `sim.*` does off the
//! simulator.

use std::rc::Rc;

use memlua_runtime::ops;
use mlua::{Lua, Table, Value};

use crate::calls::api_function;
use crate::errors::arg_error;
use crate::numbers::{got, lua_int};
use crate::session::Session;

/// The `gdb` table.
pub fn gdb_table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;

    let s = session.clone();
    t.set(
        "monitor",
        api_function(lua, move |lua, cmd: Value| {
            const F: &str = ops::GDB_MONITOR;
            let cmd = match &cmd {
                Value::String(c) => match c.to_str() {
                    Ok(c) => c.to_string(),
                    Err(_) => return Err(arg_error(1, F, "the command is not UTF-8 text")),
                },
                other => {
                    return Err(arg_error(
                        1,
                        F,
                        format!("string expected, got {}", got(other)),
                    ))
                }
            };
            let out = s.with_gdb(F, |g| g.monitor(&cmd))?;
            Ok(lua.create_string(out)?)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "halt",
        api_function(lua, move |_, ()| {
            s.with_gdb(ops::GDB_HALT, |g| g.halt().map(|_| ()))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "resume",
        api_function(lua, move |_, ()| {
            s.with_gdb(ops::GDB_RESUME, |g| g.resume().map(|_| ()))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "registers",
        api_function(lua, move |lua, ()| {
            let regs = s.with_gdb(ops::GDB_REGISTERS, |g| g.registers())?;
            let t = lua.create_table_with_capacity(0, regs.len())?;
            for (name, v) in regs {
                t.raw_set(name, lua_int(v))?;
            }
            Ok(t)
        })?,
    )?;

    Ok(t)
}
