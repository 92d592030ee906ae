//! `memrange`: MEMRANGE_GET / MEMRANGE_SET through Lua (docs/API.md,
//! Memory ranges). Descriptors are tables `{base=, len=, flags=, owner=}`;
//! the rules and errors are the backend's (docs/MEM4.md §4), this file only
//! converts.

use std::rc::Rc;

use memlua_runtime::{ops, MdfFlags, MemRangeDesc, RangeOp};
use std::io::Write as _;

use mlua::{Function, Lua, Table, Value};

use crate::args::{field_error, flag_bits, flags_field, owner_bytes, parse_flags, required};
use crate::calls::{api_function, api_function_fields};
use crate::errors::{arg_error, Res};
use crate::numbers::{got, lua_int, opt_len_arg, table_arg, to_u64};
use crate::session::Session;

/// The MDF_* constants by their Lua names (all 14 named bits).
const CONSTANTS: [(&str, MdfFlags); 14] = [
    ("UNCACHEABLE", MdfFlags::UNCACHEABLE),
    ("WRITECOMBINE", MdfFlags::WRITECOMBINE),
    ("WRITETHROUGH", MdfFlags::WRITETHROUGH),
    ("WRITEBACK", MdfFlags::WRITEBACK),
    ("WRITEPROTECT", MdfFlags::WRITEPROTECT),
    ("UNKNOWN", MdfFlags::UNKNOWN),
    ("FIXBASE", MdfFlags::FIXBASE),
    ("FIXLEN", MdfFlags::FIXLEN),
    ("FIRMWARE", MdfFlags::FIRMWARE),
    ("ACTIVE", MdfFlags::ACTIVE),
    ("BOGUS", MdfFlags::BOGUS),
    ("FIXACTIVE", MdfFlags::FIXACTIVE),
    ("BUSY", MdfFlags::BUSY),
    ("FORCE", MdfFlags::FORCE),
];

/// The fields of a descriptor table, read once each (calls.rs).
const DESC_FIELDS: [&str; 4] = ["base", "len", "flags", "owner"];

fn desc_table(lua: &Lua, d: &MemRangeDesc) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 4)?;
    t.raw_set("base", lua_int(d.base))?;
    t.raw_set("len", lua_int(d.len))?;
    t.raw_set("flags", d.flags.bits() as i64)?;
    // The owner's bytes as the kernel keeps them, text or not.
    t.raw_set("owner", lua.create_string(d.owner_bytes())?)?;
    Ok(t)
}

/// A descriptor from a table; `base`, `len` and `flags` are required for
/// `set`; `remove` needs only `base` and `len` (the kernel matches on them).
fn desc_arg(v: &Value, fname: &str, need_flags: bool) -> Res<MemRangeDesc> {
    let t = table_arg(v, 1, fname)?;
    let base = required(&t, fname, "base")?;
    let len = required(&t, fname, "len")?;
    let flags = match t.get::<Value>("flags")? {
        Value::Nil if need_flags => {
            return Err(arg_error(1, fname, "field 'flags' is missing"));
        }
        Value::Nil => MdfFlags::empty(),
        f => flags_field(&f, fname)?,
    };
    let owner = match t.get::<Value>("owner")? {
        Value::Nil => Vec::new(),
        Value::String(s) => {
            let bytes = owner_bytes(fname, &s)?;
            if bytes.len() > MemRangeDesc::OWNER_MAX {
                return Err(arg_error(
                    1,
                    fname,
                    format!(
                        "field 'owner' is {} bytes; an owner holds at most {} (the kernel keeps the 8th for the NUL)",
                        bytes.len(),
                        MemRangeDesc::OWNER_MAX
                    ),
                ));
            }
            bytes
        }
        other => return Err(field_error(fname, "owner", "string", &other)),
    };
    let mut d = MemRangeDesc::new(base, len, flags, "");
    d.set_owner_bytes(&owner);
    Ok(d)
}

/// scoped.lua, compiled at build time.
const SCOPED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/scoped.luac"));

/// `memrange.scoped(fn, ...)`: scoped.lua over this session's journal.
fn scoped(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Function> {
    let s = session.clone();
    let open = api_function(lua, move |_, ()| Ok(s.scope_open() as i64))?;
    let s = session.clone();
    let close = api_function(lua, move |_, id: i64| {
        let r = s.scope_close(id as u64)?;
        for w in &r.warnings {
            let _ = writeln!(std::io::stderr(), "memlua: warning: memrange.scoped: {w}");
        }
        Ok(())
    })?;
    let g = lua.globals();
    let table: Table = g.get("table")?;
    let make: Function = lua
        .load(SCOPED)
        .set_name("=memrange.scoped")
        .into_function()
        .or_else(|_| {
            lua.load(include_str!("scoped.lua"))
                .set_name("=memrange.scoped")
                .into_function()
        })?;
    make.call((
        open,
        close,
        g.get::<Function>("pcall")?,
        table.get::<Function>("pack")?,
        table.get::<Function>("unpack")?,
        g.get::<Function>("error")?,
        g.get::<Function>("type")?,
        g.get::<Function>("select")?,
    ))
}

pub fn table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for (name, f) in CONSTANTS {
        t.set(name, f.bits() as i64)?;
    }
    // Not an MDF_ name of its own, but what scripts mask attributes with.
    t.set("ATTRMASK", MdfFlags::ATTRMASK as i64)?;

    let s = session.clone();
    t.set(
        "count",
        api_function(lua, move |_, ()| {
            s.with(ops::MEMRANGE_COUNT, |b| b.range_count())
        })?,
    )?;

    let s = session.clone();
    t.set(
        "get",
        api_function(lua, move |lua, n: Value| {
            let n = opt_len_arg(&n, 1, ops::MEMRANGE_GET)?;
            let list = s.with(ops::MEMRANGE_GET, |b| b.ranges())?;
            let take = n.map_or(list.len(), |n| (n as usize).min(list.len()));
            let out = lua.create_table_with_capacity(take, 0)?;
            for (i, d) in list.iter().take(take).enumerate() {
                out.raw_set(i + 1, desc_table(lua, d)?)?;
            }
            Ok(out)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "set",
        api_function_fields(lua, &DESC_FIELDS, move |_, d: Value| {
            let d = desc_arg(&d, ops::MEMRANGE_SET, true)?;
            s.range_set(&d, RangeOp::Update)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "remove",
        api_function_fields(lua, &DESC_FIELDS, move |_, d: Value| {
            let d = desc_arg(&d, ops::MEMRANGE_REMOVE, false)?;
            s.range_set(&d, RangeOp::Remove)
        })?,
    )?;

    t.set("scoped", scoped(lua, session)?)?;

    t.set(
        "flags",
        api_function(lua, |_, v: Value| {
            parse_flags(&v)
                .map(|f| f.bits() as i64)
                .map_err(|m| arg_error(1, ops::MEMRANGE_FLAGS, m))
        })?,
    )?;

    t.set(
        "names",
        api_function(lua, |_, v: Value| {
            // Bits only: names in, names out would hide a mistake.
            match to_u64(&v).and_then(flag_bits) {
                Some(bits) => Ok(MdfFlags::from_bits_retain(bits).names()),
                None => Err(arg_error(
                    1,
                    ops::MEMRANGE_NAMES,
                    format!("flag bits expected, got {}", got(&v)),
                )),
            }
        })?,
    )?;

    Ok(t)
}
