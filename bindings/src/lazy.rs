//! API tables built the first time a script uses them. Most runs touch
//! `mem` alone (`memlua devmem`, `dump`): making `kmem`, `memrange` and
//! `sim` up front, and closing them again at exit, was a sixth of such a
//! run (benches/RESULTS.md, issue 11).
//!
//! Until then the table is empty, with a metatable whose `__index`,
//! `__newindex` and `__pairs` build it: they put every field in place,
//! leaving alone any the script set first, drop the metatable and carry
//! on. So indexing, assigning and `pairs` behave as on the built table;
//! raw access (`rawget`, `next`) sees nothing until one of those ran, and
//! [`build_all`] builds them at once for a caller that reads raw (the
//! REPL's completion and printing).

use mlua::{Function, Lua, MultiValue, Table, Value};

/// Registry key of `{[placeholder] = builder}` for the tables not built yet.
const PENDING: &str = "memlua.lazy.pending";
/// Registry key of the metatable all placeholders share.
const META: &str = "memlua.lazy.meta";

/// An empty table that becomes `build(lua)`'s on first use.
pub fn table(
    lua: &Lua,
    build: impl Fn(&Lua) -> mlua::Result<Table> + 'static,
) -> mlua::Result<Table> {
    let meta = match lua.named_registry_value::<Option<Table>>(META)? {
        Some(meta) => meta,
        None => metatable(lua)?,
    };
    let pending: Table = lua.named_registry_value(PENDING)?;
    let t = lua.create_table()?;
    pending.raw_set(&t, lua.create_function(move |lua, ()| build(lua))?)?;
    t.set_metatable(Some(meta))?;
    Ok(t)
}

/// Builds every table still waiting.
pub fn build_all(lua: &Lua) -> mlua::Result<()> {
    let Some(pending) = lua.named_registry_value::<Option<Table>>(PENDING)? else {
        return Ok(());
    };
    let waiting: Vec<Table> = pending
        .pairs::<Table, Value>()
        .map(|pair| pair.map(|(t, _)| t))
        .collect::<mlua::Result<_>>()?;
    waiting.iter().try_for_each(|t| build(lua, t))
}

/// Puts the fields of `t`'s table in place, once.
fn build(lua: &Lua, t: &Table) -> mlua::Result<()> {
    let pending: Table = lua.named_registry_value(PENDING)?;
    let Some(builder) = pending.raw_get::<Option<Function>>(t)? else {
        return Ok(());
    };
    let meta = t.metatable();
    pending.raw_set(t, Value::Nil)?;
    t.set_metatable(None)?;
    let filled = builder.call::<Table>(()).and_then(|built| {
        for pair in built.pairs::<Value, Value>() {
            let (k, v) = pair?;
            if t.raw_get::<Value>(&k)?.is_nil() {
                t.raw_set(k, v)?;
            }
        }
        Ok(())
    });
    if filled.is_err() {
        // Left as it was, to try again on the next use.
        pending.raw_set(t, builder)?;
        t.set_metatable(meta)?;
    }
    filled
}

fn metatable(lua: &Lua) -> mlua::Result<Table> {
    lua.set_named_registry_value(PENDING, lua.create_table()?)?;
    let meta = lua.create_table()?;
    meta.set(
        "__index",
        lua.create_function(|lua, (t, k): (Table, Value)| {
            build(lua, &t)?;
            t.get::<Value>(k)
        })?,
    )?;
    meta.set(
        "__newindex",
        lua.create_function(|lua, (t, k, v): (Table, Value, Value)| {
            build(lua, &t)?;
            t.set(k, v)
        })?,
    )?;
    // `next` as it is now, before any script could replace it.
    let next: Function = lua.globals().get("next")?;
    meta.set(
        "__pairs",
        lua.create_function(move |lua, t: Table| {
            build(lua, &t)?;
            Ok(MultiValue::from_iter([
                Value::Function(next.clone()),
                Value::Table(t),
                Value::Nil,
            ]))
        })?,
    )?;
    lua.set_named_registry_value(META, &meta)?;
    Ok(meta)
}
