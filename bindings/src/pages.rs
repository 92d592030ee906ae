//! MEM_EXTRACT_PADDR results: `mem.extract`'s table and the page list of
//! `mem.extract_range` / `b:pages()` (docs/API.md, Looking up addresses).
//!
//! A page list keeps the batch's answers as plain structs; `pl[i]` builds a
//! table only when asked, and `pl:state(i)` / `pl:paddr(i)` / `pl:domain(i)`
//! answer without building one (C fast paths in fast.rs), so a script can
//! walk many pages cheaply. A page list is a tagged block (objects.rs).

use std::rc::Rc;

use memlua_runtime::{ops, Errno, Error as RtError, MemExtract, PAGE_SIZE};
use mlua::{Lua, Table, Value};

use crate::calls::{api_function, index_function};
use crate::errors::{arg_error, Fail, Res};
use crate::fast;
use crate::numbers::{got, lua_int, to_u64};
use crate::objects::{self, Object};
use crate::session::Session;

/// The most pages one `extract_range` looks up (16 GiB of address space):
/// the answer is held in memory, so an absurd length is refused up front.
pub const MAX_PAGES: u64 = 1 << 22;

/// `{vaddr=, state=, paddr=, domain=}`, plus `why` for a hidden frame.
pub fn extract_table(lua: &Lua, e: &MemExtract) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 4)?;
    t.raw_set("vaddr", lua_int(e.vaddr))?;
    t.raw_set("state", e.state.name())?;
    t.raw_set("paddr", e.paddr.map(lua_int))?;
    t.raw_set("domain", e.domain)?;
    if let Some(why) = e.why() {
        t.raw_set("why", why)?;
    }
    Ok(t)
}

pub fn extract_one(session: &Session, vaddr: u64) -> Res<MemExtract> {
    let mut out = [MemExtract::invalid(vaddr)];
    session.with(ops::MEM_EXTRACT, |b| b.extract(&mut out))?;
    Ok(out[0])
}

/// The page list for `[vaddr, vaddr+len)`: the first entry is `vaddr`
/// itself, the rest the following page bases; one batched backend call.
pub fn extract_range(session: &Rc<Session>, op: &str, vaddr: u64, len: u64) -> Res<PageList> {
    if len == 0 {
        return Ok(PageList {
            entries: Rc::from(Vec::new()),
        });
    }
    let first = vaddr & !(PAGE_SIZE - 1);
    let last = vaddr.checked_add(len - 1).ok_or_else(|| {
        Fail::Rt(
            RtError::new(
                Errno::EINVAL,
                op,
                "the range runs past the end of the address space",
            )
            .span(vaddr, len),
        )
    })? & !(PAGE_SIZE - 1);
    let pages = (last - first) / PAGE_SIZE + 1;
    if pages > MAX_PAGES {
        return Err(Fail::Rt(
            RtError::new(
                Errno::EINVAL,
                op,
                format!(
                    "{pages} pages asked for; one lookup takes at most {MAX_PAGES}: look the range up in pieces"
                ),
            )
            .span(vaddr, len),
        ));
    }
    let mut entries: Vec<MemExtract> = (0..pages)
        .map(|i| MemExtract::invalid(if i == 0 { vaddr } else { first + i * PAGE_SIZE }))
        .collect();
    session.with(op, |b| b.extract(&mut entries))?;
    Ok(PageList {
        entries: Rc::from(entries),
    })
}

/// The answers of one batched lookup.
#[derive(Clone)]
pub struct PageList {
    pub entries: Rc<[MemExtract]>,
}

impl Object for PageList {
    const TAG: u64 = u64::from_be_bytes(*b"mlpages\x01");
    const NAME: &'static std::ffi::CStr = c"memlua.pagelist";
}

/// The page list as a Lua value.
pub fn push_list(lua: &Lua, list: PageList) -> mlua::Result<Value> {
    objects::create(lua, list)
}

impl PageList {
    /// Entry `i` (1-based) for an accessor, or an argument error naming
    /// the valid range.
    fn entry(&self, i: &Value, fname: &str) -> Res<&MemExtract> {
        let n = self.entries.len();
        to_u64(i)
            .and_then(|i| (i as usize).checked_sub(1))
            .and_then(|k| self.entries.get(k))
            .ok_or_else(|| {
                arg_error(
                    1,
                    fname,
                    format!("page index 1..{n} expected, got {}", show(i)),
                )
            })
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Integer(i) => i.to_string(),
        other => got(other),
    }
}

fn index(lua: &Lua) -> mlua::Result<Value> {
    let methods = lua.create_table()?;
    // Each accessor is a C fast path (fast.rs) over the list's entries,
    // falling back on these for anything unusual.
    let slow = objects::method(lua, "state", |_, pl: PageList, i: Value| {
        Ok(pl.entry(&i, "state")?.state.name())
    })?;
    methods.set("state", fast::page_method(lua, "state", slow)?)?;
    let slow = objects::method(lua, "paddr", |_, pl: PageList, i: Value| {
        Ok(pl.entry(&i, "paddr")?.paddr.map(lua_int))
    })?;
    methods.set("paddr", fast::page_method(lua, "paddr", slow)?)?;
    let slow = objects::method(lua, "domain", |_, pl: PageList, i: Value| {
        Ok(pl.entry(&i, "domain")?.domain)
    })?;
    methods.set("domain", fast::page_method(lua, "domain", slow)?)?;
    // pl[i] like a table: nil outside 1..#pl.
    let getter = api_function(lua, |lua, (this, key): (Value, Value)| {
        let Some(pl) = objects::get::<PageList>(lua, &this) else {
            return Ok(Value::Nil);
        };
        // As a table would: an integral float is the same key (pl[1.0]).
        let index = match &key {
            Value::Integer(i) => usize::try_from(*i).ok(),
            Value::Number(f) if f.fract() == 0.0 && *f >= 1.0 && *f <= usize::MAX as f64 => {
                Some(*f as usize)
            }
            _ => None,
        };
        let entry = index
            .and_then(|i| i.checked_sub(1))
            .and_then(|k| pl.entries.get(k));
        match entry {
            Some(e) => Ok(Value::Table(extract_table(lua, e)?)),
            None => Ok(Value::Nil),
        }
    })?;
    index_function(lua, methods, Some(getter))
}

/// Creates the page list metatable once per state.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let tostring = api_function(lua, |lua, this: Value| {
        Ok(match objects::get::<PageList>(lua, &this) {
            Some(pl) => format!("page list ({} pages)", pl.entries.len()),
            None => "page list (collected)".to_string(),
        })
    })?;
    let len = api_function(lua, |lua, this: Value| {
        Ok(objects::get::<PageList>(lua, &this).map(|pl| pl.entries.len()))
    })?;
    objects::metatable::<PageList>(lua, index(lua)?, tostring, &[("__len", len)])
}
