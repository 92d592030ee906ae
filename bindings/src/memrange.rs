//! `memrange`: MEMRANGE_GET / MEMRANGE_SET through Lua (API.md, Memory
//! ranges). Descriptors are tables `{base=, len=, flags=, owner=}`; the
//! rules and errors are the backend's (mem4.md §4), this file only converts.

use std::rc::Rc;

use memlua_runtime::{MdfFlags, MemRangeDesc, RangeOp};
use mlua::{Lua, Table, Value};

use crate::errors::{api_function, arg_error, Res};
use crate::numbers::{got, lua_int, opt_len_arg, table_arg, to_u64};
use crate::session::{field_error, required, Session};

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

/// memcontrol's names, for error messages.
fn known_names() -> String {
    MdfFlags::NAMES
        .iter()
        .map(|(n, _, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A bit set that fits `mr_flags` (an `int`): 0..=0xffffffff, or a
/// negative 32-bit value (FORCE is bit 31, -0x80000000 as an int).
fn flag_bits(n: u64) -> Option<u32> {
    u32::try_from(n)
        .ok()
        .or_else(|| i32::try_from(n as i64).ok().map(|i| i as u32))
}

/// Flags given as an integer (the bit set, at most 32 bits) or as names.
fn parse_flags(v: &Value) -> Result<MdfFlags, String> {
    match v {
        Value::String(s) => {
            let s = s
                .to_str()
                .map_err(|_| "flag names must be text".to_string())?;
            // A numeric string is a bit set, like any number.
            if let Some(n) = to_u64(v) {
                return flag_bits(n)
                    .map(MdfFlags::from_bits_retain)
                    .ok_or_else(|| format!("flags {n:#x} do not fit in 32 bits"));
            }
            MdfFlags::parse_names(&s)
                .map_err(|word| format!("unknown flag name '{word}' (known: {})", known_names()))
        }
        Value::Integer(_) | Value::Number(_) => match to_u64(v) {
            Some(n) => flag_bits(n)
                .map(MdfFlags::from_bits_retain)
                .ok_or_else(|| format!("flags {n:#x} do not fit in 32 bits")),
            None => Err(format!("integer or flag names expected, got {}", got(v))),
        },
        other => Err(format!(
            "integer or flag names expected, got {}",
            got(other)
        )),
    }
}

/// The `flags` field of a descriptor table (`memrange.set`, `sim.claim`).
pub fn flags_field(v: &Value, fname: &str) -> Res<MdfFlags> {
    parse_flags(v).map_err(|m| arg_error(1, fname, format!("field 'flags': {m}")))
}

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
            let bytes = s.as_bytes();
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
            bytes.to_vec()
        }
        other => return Err(field_error(fname, "owner", "string", &other)),
    };
    let mut d = MemRangeDesc::new(base, len, flags, "");
    d.set_owner_bytes(&owner);
    Ok(d)
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
            s.with("memrange.count", |b| b.range_count())
        })?,
    )?;

    let s = session.clone();
    t.set(
        "get",
        api_function(lua, move |lua, n: Value| {
            let n = opt_len_arg(&n, 1, "memrange.get")?;
            let list = s.with("memrange.get", |b| b.ranges())?;
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
        api_function(lua, move |_, d: Value| {
            let d = desc_arg(&d, "memrange.set", true)?;
            s.with("memrange.set", |b| b.range_set(&d, RangeOp::Update))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "remove",
        api_function(lua, move |_, d: Value| {
            let d = desc_arg(&d, "memrange.remove", false)?;
            s.with("memrange.remove", |b| b.range_set(&d, RangeOp::Remove))
        })?,
    )?;

    t.set(
        "flags",
        api_function(lua, |_, v: Value| {
            parse_flags(&v)
                .map(|f| f.bits() as i64)
                .map_err(|m| arg_error(1, "memrange.flags", m))
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
                    "memrange.names",
                    format!("flag bits expected, got {}", got(&v)),
                )),
            }
        })?,
    )?;

    Ok(t)
}
