//! `require "memlua.host"`: the few things the Lua stdlib needs that Lua
//! itself lacks. Error values shaped like the API's (so `poll` can raise
//! ETIMEDOUT that scripts branch on with `e.errno`, and `tostring(e)`
//! reads like every other memlua error) and a monotonic clock (Lua's
//! `os.clock` is CPU time, `os.time` whole seconds).
//!
//! `host.error{errno=, op=, message= [, addr=]}` -> error value (not raised);
//! `host.monotonic_ns()` -> integer nanoseconds since an arbitrary start.

use std::sync::OnceLock;
use std::time::Instant;

use memlua_runtime::{Errno, Error as RtError};
use mlua::{Lua, Table};

fn errno_named(name: &str) -> Option<Errno> {
    Some(match name {
        "EFAULT" => Errno::EFAULT,
        "EINVAL" => Errno::EINVAL,
        "EBUSY" => Errno::EBUSY,
        "ENOSPC" => Errno::ENOSPC,
        "ENOENT" => Errno::ENOENT,
        "EPERM" => Errno::EPERM,
        "ENXIO" => Errno::ENXIO,
        "EOPNOTSUPP" => Errno::EOPNOTSUPP,
        "EACCES" => Errno::EACCES,
        "EROFS" => Errno::EROFS,
        "ENOMEM" => Errno::ENOMEM,
        "ENOTTY" => Errno::ENOTTY,
        "ETIMEDOUT" => Errno::ETIMEDOUT,
        "EIO" => Errno::EIO,
        _ => return None,
    })
}

fn make_error(lua: &Lua, spec: Table) -> mlua::Result<Table> {
    let name: String = spec.get("errno")?;
    let errno = errno_named(&name)
        .ok_or_else(|| mlua::Error::runtime(format!("host.error: unknown errno '{name}'")))?;
    let op: String = spec.get::<Option<String>>("op")?.unwrap_or_default();
    let message: String = spec.get::<Option<String>>("message")?.unwrap_or_default();
    let mut e = RtError::new(errno, op, message);
    if let Some(a) = spec.get::<Option<i64>>("addr")? {
        e = e.at(a as u64);
    }
    crate::errors::error_value(lua, &e)
}

fn monotonic_ns() -> i64 {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    i64::try_from(start.elapsed().as_nanos()).unwrap_or(i64::MAX)
}

fn module(lua: &Lua) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("error", lua.create_function(make_error)?)?;
    t.set(
        "monotonic_ns",
        lua.create_function(|_, ()| Ok(monotonic_ns()))?,
    )?;
    Ok(t)
}

/// Registers `memlua.host`, `memlua.hexfmt`, `memlua.progress` and
/// `memlua.svd`.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    errors_ready(lua)?;
    crate::stdlib::preload(lua, "memlua.host", module)?;
    crate::hexfmt::install(lua)?;
    crate::progress::install(lua)?;
    crate::svd::install(lua)
}

fn errors_ready(lua: &Lua) -> mlua::Result<()> {
    crate::errors::install(lua)
}
