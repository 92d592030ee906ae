//! `uio.*`: a UIO device's interrupts (docs/API.md, UIO). Every call exists
//! on every backend and fails with EOPNOTSUPP where there is no UIO device
//! (`--uio uioN` opens one).

use std::rc::Rc;
use std::time::Duration;

use memlua_runtime::ops;
use mlua::{Lua, Table, Value};

use crate::calls::api_function;
use crate::errors::{arg_error, Res};
use crate::numbers::{got, lua_int};
use crate::session::Session;

/// A timeout in seconds (nil: wait as long as it takes).
fn timeout_arg(v: &Value) -> Res<Option<Duration>> {
    let secs = match v {
        Value::Nil => return Ok(None),
        Value::Integer(i) => *i as f64,
        Value::Number(n) => *n,
        other => {
            return Err(arg_error(
                1,
                "wait_irq",
                format!("timeout in seconds expected, got {}", got(other)),
            ))
        }
    };
    Duration::try_from_secs_f64(secs).map(Some).map_err(|_| {
        arg_error(
            1,
            "wait_irq",
            format!("timeout must be 0 or more seconds, got {}", got(v)),
        )
    })
}

pub fn table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let s = session.clone();
    t.set(
        "wait_irq",
        api_function(lua, move |_, timeout: Value| {
            let timeout = timeout_arg(&timeout)?;
            let n = s.with(ops::UIO_WAIT_IRQ, |b| b.wait_irq(timeout))?;
            Ok(n.map(|n| lua_int(n as u64)))
        })?,
    )?;
    Ok(t)
}
