//! `sim.*`, the simulator controls (docs/API.md, The session), including
//! devices modelled in Lua. Every call exists on every backend and fails
//! with EOPNOTSUPP off the simulator.

use std::rc::Rc;

use memlua_runtime::sim::devices::{Device, Tick};
use memlua_runtime::sim::RegionInfo;
use memlua_runtime::{ops, Errno, Error as RtError, Result as RtResult, Width};
use mlua::{Function, Lua, Table, Value};

use crate::args::{escaped, field_error, flags_field, owner_bytes, required, text_field};
use crate::calls::{api_function, api_function_fields};
use crate::errors::{arg_error, lua_message, Res};
use crate::numbers::{got, len_arg, lua_int, table_arg, to_u64};
use crate::session::Session;

/// The fields of the descriptor tables, read once each (calls.rs).
const DEVICE_FIELDS: [&str; 5] = ["name", "base", "len", "read", "write"];
const CLAIM_FIELDS: [&str; 4] = ["base", "len", "owner", "flags"];

fn region_table(lua: &Lua, r: &RegionInfo) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    t.set("name", r.name.as_str())?;
    t.set("kind", r.kind.as_str())?;
    t.set("base", lua_int(r.base))?;
    t.set("size", lua_int(r.size))?;
    t.set("domain", r.domain)?;
    t.set("resident_pages", r.resident_pages)?;
    t.set("ignored_writes", r.ignored_writes.map(lua_int))?;
    Ok(t)
}

fn region_list(lua: &Lua, list: &[RegionInfo]) -> Res<Table> {
    let t = lua.create_table_with_capacity(list.len(), 0)?;
    for (i, r) in list.iter().enumerate() {
        t.raw_set(i + 1, region_table(lua, r)?)?;
    }
    Ok(t)
}

/// The `sim` table.
pub fn sim_table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;

    let s = session.clone();
    t.set(
        "regions",
        api_function(lua, move |lua, ()| {
            let list = s.with_sim(ops::SIM_REGIONS, |sim| Ok(sim.regions()))?;
            region_list(lua, &list)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "devices",
        api_function(lua, move |lua, ()| {
            let list = s.with_sim(ops::SIM_DEVICES, |sim| Ok(sim.devices()))?;
            region_list(lua, &list)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "device",
        api_function_fields(lua, &DEVICE_FIELDS, move |_, spec: Value| {
            const F: &str = ops::SIM_DEVICE;
            let spec = table_arg(&spec, 1, F)?;
            let name: String = match spec.get::<Value>("name")? {
                Value::String(n) => text_field(F, "name", &n)?,
                other => return Err(field_error(F, "name", "a string", &other)),
            };
            let base = required(&spec, F, "base")?;
            let len = required(&spec, F, "len")?;
            let read = callback(&spec, F, "read")?;
            let write = callback(&spec, F, "write")?;
            let dev = LuaDevice {
                name: name.clone(),
                read,
                write,
            };
            s.with_sim(F, |sim| sim.add_device(&name, base, len, Box::new(dev)))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "reclaim",
        api_function(lua, move |_, ()| {
            s.with_sim(ops::SIM_RECLAIM, |sim| Ok(sim.reclaim()))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "claim",
        api_function_fields(lua, &CLAIM_FIELDS, move |_, spec: Value| {
            const F: &str = ops::SIM_CLAIM;
            let spec = table_arg(&spec, 1, F)?;
            let base = required(&spec, F, "base")?;
            let len = required(&spec, F, "len")?;
            let owner = match spec.get::<Value>("owner")? {
                Value::String(o) => {
                    owner_bytes(F, &o)?;
                    text_field(F, "owner", &o)?
                }
                other => return Err(field_error(F, "owner", "a string", &other)),
            };
            let attr = match spec.get::<Value>("flags")? {
                Value::Nil => None,
                v => Some(flags_field(&v, F)?),
            };
            s.with_sim(F, |sim| sim.claim(base, len, &owner, attr))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "output",
        api_function(lua, move |lua, name: Value| {
            const F: &str = ops::SIM_OUTPUT;
            let name = match &name {
                // Device names are text: other bytes name none.
                Value::String(n) => match n.to_str() {
                    Ok(n) => n.to_string(),
                    Err(_) => {
                        return Err(RtError::new(
                            Errno::ENOENT,
                            F,
                            format!("no device named '{}' (not text)", escaped(&n.as_bytes())),
                        )
                        .into())
                    }
                },
                other => {
                    return Err(arg_error(
                        1,
                        F,
                        format!("string expected, got {}", got(other)),
                    ))
                }
            };
            let bytes = s.with_sim(F, |sim| sim.output(&name))?;
            Ok(lua.create_string(bytes)?)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "clock",
        api_function(lua, move |_, ()| {
            s.with_sim(ops::SIM_CLOCK, |sim| Ok(lua_int(sim.clock())))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "advance",
        api_function(lua, move |_, ns: Value| {
            let ns = len_arg(&ns, 1, ops::SIM_ADVANCE)?;
            s.with_sim(ops::SIM_ADVANCE, |sim| {
                sim.advance(ns);
                Ok(lua_int(sim.clock()))
            })
        })?,
    )?;

    Ok(t)
}

fn callback(t: &Table, fname: &str, field: &str) -> Res<Option<Function>> {
    match t.get::<Value>(field)? {
        Value::Nil => Ok(None),
        Value::Function(f) => Ok(Some(f)),
        other => Err(field_error(fname, field, "function", &other)),
    }
}

/// A device whose registers are Lua functions: `read(off, width)` returns
/// the value, `write(off, width, v)` takes it; width in bits. Any width is
/// accepted. A missing `read` reads 0; a missing `write` ignores writes.
struct LuaDevice {
    name: String,
    read: Option<Function>,
    write: Option<Function>,
}

impl LuaDevice {
    fn eio(&self, what: &str, msg: String) -> RtError {
        // The callback's own message; the traceback mlua appends to it
        // would run through the middle of ours.
        let msg = msg.split("\nstack traceback:").next().unwrap_or_default();
        RtError::new(
            Errno::EIO,
            "",
            format!("device '{}' {what} failed: {msg}", self.name),
        )
    }
}

impl Device for LuaDevice {
    fn kind(&self) -> &str {
        "lua"
    }

    fn widths(&self) -> &[Width] {
        &Width::ALL
    }

    fn read(&mut self, off: u64, w: Width, _tick: Tick) -> RtResult<u64> {
        let Some(f) = &self.read else { return Ok(0) };
        let v: Value = f
            .call((lua_int(off), w.bits()))
            .map_err(|e| self.eio("read", lua_message(&e)))?;
        let n = match &v {
            Value::Integer(_) | Value::Number(_) => to_u64(&v),
            _ => None,
        };
        match n {
            Some(n) if w.fits(n) => Ok(n & w.mask()),
            Some(n) => Err(self.eio(
                "read",
                format!(
                    "it returned {n:#x}, which does not fit in {} bits",
                    w.bits()
                ),
            )),
            None => Err(self.eio("read", format!("it returned {}, not an integer", got(&v)))),
        }
    }

    fn write(&mut self, off: u64, w: Width, v: u64, _tick: Tick) -> RtResult<()> {
        let Some(f) = &self.write else { return Ok(()) };
        f.call::<()>((lua_int(off), w.bits(), lua_int(v)))
            .map_err(|e| self.eio("write", lua_message(&e)))
    }
}
