//! API tables filled the first time a script uses them. Most runs use a
//! call or two of `mem` and nothing else (`memlua devmem`, `dump`): making
//! every API function up front, and finalizing them all at exit, was a
//! fifth of such a run (benches/RESULTS.md, issue 11).
//!
//! Until then the table lacks them, and has a metatable whose `__index`,
//! `__newindex` and `__pairs` make what is asked for: the field indexed or
//! assigned (`mem`'s calls one by one; `kmem`, `memrange` and `sim`
//! whole), or everything for `pairs`. A field the script set first is left
//! alone. Once all is made the metatable goes, so indexing, assigning and
//! `pairs` behave as on the made table; raw access (`rawget`, `next`) sees
//! only what was made, and the metatable is protected (`setmetatable`
//! would otherwise drop the calls not made yet). [`build_all`] makes
//! everything, for a caller that reads raw (the REPL's completion).

use std::cell::RefCell;

use mlua::{Function, Lua, MultiValue, Table, Value};

/// Registry key of `{[placeholder] = step}` for the tables not complete:
/// `step(key, all)` makes the field `key` (or all, when `all`) and returns
/// the fields made and whether none is left.
const PENDING: &str = "memlua.lazy.pending";
/// Registry key of the metatable all placeholders share.
const META: &str = "memlua.lazy.meta";

/// An empty table that becomes `build(lua)`'s on first use.
pub fn table(
    lua: &Lua,
    build: impl Fn(&Lua) -> mlua::Result<Table> + 'static,
) -> mlua::Result<Table> {
    placeholder(
        lua,
        lua.create_function(move |lua, _: MultiValue| Ok((build(lua)?, true)))?,
    )
}

/// An empty table whose fields `names` are made one at a time, each by
/// `build(lua, name)` when first used.
pub fn keyed(
    lua: &Lua,
    names: &'static [&'static str],
    build: impl Fn(&Lua, &str) -> mlua::Result<Option<Function>> + 'static,
) -> mlua::Result<Table> {
    let left = RefCell::new(names.to_vec());
    let step = lua.create_function(move |lua, (key, all): (Value, bool)| {
        let made = lua.create_table()?;
        let wanted: Vec<&'static str> = match &key {
            _ if all => left.borrow().clone(),
            Value::String(k) => left
                .borrow()
                .iter()
                .copied()
                .filter(|n| k.as_bytes() == n.as_bytes())
                .collect(),
            _ => Vec::new(),
        };
        for name in wanted {
            if let Some(f) = build(lua, name)? {
                made.raw_set(name, f)?;
            }
            left.borrow_mut().retain(|n| *n != name);
        }
        Ok((made, left.borrow().is_empty()))
    })?;
    placeholder(lua, step)
}

/// Makes everything every table still waits for.
pub fn build_all(lua: &Lua) -> mlua::Result<()> {
    let Some(pending) = lua.named_registry_value::<Option<Table>>(PENDING)? else {
        return Ok(());
    };
    let waiting: Vec<Table> = pending
        .pairs::<Table, Value>()
        .map(|pair| pair.map(|(t, _)| t))
        .collect::<mlua::Result<_>>()?;
    waiting
        .iter()
        .try_for_each(|t| build(lua, t, Value::Nil, true))
}

fn placeholder(lua: &Lua, step: Function) -> mlua::Result<Table> {
    let meta = match lua.named_registry_value::<Option<Table>>(META)? {
        Some(meta) => meta,
        None => metatable(lua)?,
    };
    let pending: Table = lua.named_registry_value(PENDING)?;
    let t = lua.create_table()?;
    pending.raw_set(&t, step)?;
    t.set_metatable(Some(meta))?;
    Ok(t)
}

/// Makes the field `key` of `t` (everything, when `all`), leaving alone
/// any field already there; drops the metatable once nothing is left.
fn build(lua: &Lua, t: &Table, key: Value, all: bool) -> mlua::Result<()> {
    let pending: Table = lua.named_registry_value(PENDING)?;
    let Some(step) = pending.raw_get::<Option<Function>>(t)? else {
        return Ok(());
    };
    let (made, done): (Table, bool) = step.call((key, all))?;
    for pair in made.pairs::<Value, Value>() {
        let (k, v) = pair?;
        if t.raw_get::<Value>(&k)?.is_nil() {
            t.raw_set(k, v)?;
        }
    }
    if done {
        pending.raw_set(t, Value::Nil)?;
        t.set_metatable(None)?;
    }
    Ok(())
}

fn metatable(lua: &Lua) -> mlua::Result<Table> {
    lua.set_named_registry_value(PENDING, lua.create_table()?)?;
    let meta = lua.create_table()?;
    meta.raw_set(
        "__index",
        lua.create_function(|lua, (t, k): (Table, Value)| {
            build(lua, &t, k.clone(), false)?;
            t.raw_get::<Value>(k)
        })?,
    )?;
    meta.raw_set(
        "__newindex",
        lua.create_function(|lua, (t, k, v): (Table, Value, Value)| {
            build(lua, &t, k.clone(), false)?;
            t.raw_set(k, v)
        })?,
    )?;
    // `next` as it is now, before any script could replace it.
    let next: Function = lua.globals().get("next")?;
    meta.raw_set(
        "__pairs",
        lua.create_function(move |lua, t: Table| {
            build(lua, &t, Value::Nil, true)?;
            Ok(MultiValue::from_iter([
                Value::Function(next.clone()),
                Value::Table(t),
                Value::Nil,
            ]))
        })?,
    )?;
    meta.raw_set("__metatable", false)?;
    lua.set_named_registry_value(META, &meta)?;
    Ok(meta)
}
