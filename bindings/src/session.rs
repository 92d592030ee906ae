//! The session: the one backend every API function shares, `backend.*`,
//! and the simulator controls `sim.*` (API.md, The session), including
//! devices modelled in Lua.
//!
//! The backend sits in an `Rc<RefCell<..>>`. A Lua-modelled device's callback
//! runs while the backend is borrowed for the access that reached it; if the
//! callback touches memory again, the borrow is refused and the call fails
//! with EBUSY instead of panicking (`try_borrow_mut`, never `borrow_mut`).

use std::cell::RefCell;
use std::rc::Rc;

use memlua_runtime::sim::devices::{Device, Tick};
use memlua_runtime::sim::{RegionInfo, Sim};
use memlua_runtime::{Backend, Errno, Error as RtError, Result as RtResult, Space, Width};
use mlua::{Function, Lua, Table, Value};

use crate::errors::{api_function, arg_error, lua_message, Fail, Res};
use crate::memrange::flags_field;
use crate::numbers::{got, len_arg, lua_int, table_arg, to_u64};

/// The state every API function shares.
pub struct Session {
    backend: RefCell<Box<dyn Backend>>,
}

impl Session {
    pub fn new(backend: Box<dyn Backend>) -> Rc<Session> {
        Rc::new(Session {
            backend: RefCell::new(backend),
        })
    }

    /// Runs `f` on the backend; `op` names the call if the backend is busy.
    #[inline]
    pub fn with<T>(&self, op: &str, f: impl FnOnce(&mut dyn Backend) -> RtResult<T>) -> Res<T> {
        let mut b = self.backend.try_borrow_mut().map_err(|_| busy(op))?;
        f(&mut **b).map_err(Fail::Rt)
    }

    /// One access for the fast paths: the backend's own error, or EBUSY
    /// named after the access.
    #[inline(always)]
    pub fn run<T>(
        &self,
        space: Space,
        w: Width,
        write: bool,
        f: impl FnOnce(&mut dyn Backend) -> RtResult<T>,
    ) -> RtResult<T> {
        match self.backend.try_borrow_mut() {
            Ok(mut b) => f(&mut **b),
            Err(_) => Err(busy_error(crate::mem::op_name(space, w, write))),
        }
    }

    /// Runs `f` on the simulator, or fails with EOPNOTSUPP off it.
    pub fn with_sim<T>(&self, op: &str, f: impl FnOnce(&mut Sim) -> RtResult<T>) -> Res<T> {
        self.with(op, |b| match b.as_sim() {
            Some(sim) => f(sim),
            None => Err(RtError::new(
                Errno::EOPNOTSUPP,
                op,
                format!(
                    "{op} needs the simulator, but this session runs on the '{}' backend",
                    b.name()
                ),
            )),
        })
    }
}

fn busy(op: &str) -> Fail {
    Fail::Rt(busy_error(op))
}

fn busy_error(op: &str) -> RtError {
    RtError::new(
        Errno::EBUSY,
        op,
        "the backend is busy with the access that called this device's Lua code; \
         a device callback cannot access memory or the simulator itself",
    )
}

/// `backend.name`, `backend.writable`, `backend.board`: fixed for the
/// session, so plain fields.
pub fn backend_table(lua: &Lua, session: &Session) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    let b = session
        .backend
        .try_borrow()
        .map_err(|_| mlua::Error::runtime("backend busy during install"))?;
    t.set("name", b.name())?;
    t.set("writable", b.writable())?;
    t.set("board", b.board())?;
    Ok(t)
}

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

/// The `sim` table. Every call exists on every backend and fails with
/// EOPNOTSUPP off the simulator.
pub fn sim_table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;

    let s = session.clone();
    t.set(
        "regions",
        api_function(lua, move |lua, ()| {
            let list = s.with_sim("sim.regions", |sim| Ok(sim.regions()))?;
            region_list(lua, &list)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "devices",
        api_function(lua, move |lua, ()| {
            let list = s.with_sim("sim.devices", |sim| Ok(sim.devices()))?;
            region_list(lua, &list)
        })?,
    )?;

    let s = session.clone();
    t.set(
        "device",
        api_function(lua, move |_, spec: Value| {
            const F: &str = "sim.device";
            let spec = table_arg(&spec, 1, F)?;
            let name: String = match spec.get::<Value>("name")? {
                Value::String(n) => n.to_str()?.to_string(),
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
            s.with_sim("sim.reclaim", |sim| Ok(sim.reclaim()))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "claim",
        api_function(lua, move |_, spec: Value| {
            const F: &str = "sim.claim";
            let spec = table_arg(&spec, 1, F)?;
            let base = required(&spec, F, "base")?;
            let len = required(&spec, F, "len")?;
            let owner = match spec.get::<Value>("owner")? {
                Value::String(o) => o.to_str()?.to_string(),
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
            const F: &str = "sim.output";
            let name = match &name {
                Value::String(n) => n.to_str()?.to_string(),
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
            s.with_sim("sim.clock", |sim| Ok(lua_int(sim.clock())))
        })?,
    )?;

    let s = session.clone();
    t.set(
        "advance",
        api_function(lua, move |_, ns: Value| {
            let ns = len_arg(&ns, 1, "sim.advance")?;
            s.with_sim("sim.advance", |sim| {
                sim.advance(ns);
                Ok(lua_int(sim.clock()))
            })
        })?,
    )?;

    Ok(t)
}

/// `bad argument #1 to 'sim.device' (field 'base': address expected, got nil)`.
pub fn field_error(fname: &str, field: &str, expected: &str, v: &Value) -> Fail {
    arg_error(
        1,
        fname,
        format!("field '{field}': {expected} expected, got {}", got(v)),
    )
}

/// A required integer-like field of a descriptor table.
pub fn required(t: &Table, fname: &str, field: &str) -> Res<u64> {
    let v: Value = t.get(field)?;
    match &v {
        Value::Nil => Err(arg_error(1, fname, format!("field '{field}' is missing"))),
        _ => to_u64(&v).ok_or_else(|| field_error(fname, field, "integer", &v)),
    }
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
