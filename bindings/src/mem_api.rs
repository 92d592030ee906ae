//! `mem` (physical memory, /dev/mem) and `kmem` (kernel virtual memory,
//! /dev/kmem): the same calls over two spaces, plus `kmem.symbol` and the
//! process-memory calls on `mem` (docs/API.md, `mem` and `kmem`).

use std::rc::Rc;

use memlua_runtime::{ops, Errno, Error as RtError, Space, Width};
use mlua::{Function, Lua, Table, Value};

use crate::args::check_bulk_len;
use crate::calls::api_function;
use crate::errors::{arg_error, Fail, Res};
use crate::numbers::{addr_arg, bytes_arg, got, len_arg, lua_int, value_arg};
use crate::session::Session;
use crate::{buffer, fast, pages, window};

const WIDTHS: [(Width, &str, &str); 4] = [
    (Width::W8, "read8", "write8"),
    (Width::W16, "read16", "write16"),
    (Width::W32, "read32", "write32"),
    (Width::W64, "read64", "write64"),
];

/// Below this a bulk read goes through the backend's read: mapping costs
/// more than it saves.
const MAPPED_READ_MIN: u64 = 1 << 20;

/// A large bulk read of plain memory (a regular file standing in for the
/// device) copied straight from its mapping into the Lua string: one copy
/// instead of a read into a buffer and a second copy. None when the
/// backend offers no such mapping; the ordinary read then runs.
fn read_mapped(
    lua: &Lua,
    s: &Session,
    op: &str,
    space: Space,
    addr: u64,
    len: u64,
) -> Res<Option<mlua::LuaString>> {
    if len < MAPPED_READ_MIN {
        return Ok(None);
    }
    let Some(map) = s.with(op, |b| Ok(b.map_direct(space, addr, len)))? else {
        return Ok(None);
    };
    if !map.copyable || map.len < len {
        return Ok(None);
    }
    // SAFETY: the backend promises `map.ptr` is valid for `map.len` bytes
    // of plain memory while `map.keep` lives, and `map` is alive here.
    let bytes = unsafe { std::slice::from_raw_parts(map.ptr, len as usize) };
    // A fault while copying (the file shrank) is this read's error; one
    // that only met an earlier fault's poison goes the ordinary way.
    match memlua_runtime::direct::guarded(map.ptr, len as usize, || lua.create_string(bytes)) {
        Ok(s) => Ok(Some(s?)),
        Err(f) if f.earlier => Ok(None),
        Err(f) => Err(Fail::Rt(f.error().with_op(op))),
    }
}

/// The calls `mem` and `kmem` share.
const SPACE_CALLS: [&str; 11] = [
    "read8", "write8", "read16", "write16", "read32", "write32", "read64", "write64", "read",
    "write", "map",
];

/// The calls of `mem`: those it shares with `kmem`, then its own.
pub const MEM_CALLS: [&str; 14] = [
    "read8",
    "write8",
    "read16",
    "write16",
    "read32",
    "write32",
    "read64",
    "write64",
    "read",
    "write",
    "map",
    "extract",
    "extract_range",
    "alloc",
];

/// The call `name` that `mem` and `kmem` share, over `space`; None for
/// any other name.
fn space_call(
    lua: &Lua,
    session: &Rc<Session>,
    space: Space,
    name: &str,
) -> mlua::Result<Option<Function>> {
    for (w, read, write) in WIDTHS {
        if name == read {
            let s = session.clone();
            let rop = ops::access(space, w, false);
            let slow = api_function(lua, move |_, a: Value| {
                let addr = addr_arg(&a, 1, rop)?;
                s.access(rop, addr, |b| b.read(space, addr, w)).map(lua_int)
            })?;
            return fast::space_function(lua, session, space, w, false, slow).map(Some);
        }
        if name == write {
            let s = session.clone();
            let wop = ops::access(space, w, true);
            let slow = api_function(lua, move |_, (a, v): (Value, Value)| {
                let addr = addr_arg(&a, 1, wop)?;
                let v = value_arg(&v, 2, wop)?;
                s.access(wop, addr, |b| b.write(space, addr, w, v))
            })?;
            return fast::space_function(lua, session, space, w, true, slow).map(Some);
        }
    }
    let (read_op, write_op, map_op) = (
        ops::bulk(space, false),
        ops::bulk(space, true),
        ops::map(space),
    );
    let s = session.clone();
    let f = match name {
        "read" => api_function(lua, move |lua, (a, n): (Value, Value)| {
            let addr = addr_arg(&a, 1, read_op)?;
            let len = len_arg(&n, 2, read_op)?;
            check_bulk_len(read_op, addr, len)?;
            if let Some(s) = read_mapped(lua, &s, read_op, space, addr, len)? {
                return Ok(s);
            }
            let mut buf = vec![0u8; len as usize];
            s.access(read_op, addr, |b| b.read_bytes(space, addr, &mut buf))?;
            Ok(lua.create_string(buf)?)
        })?,
        "write" => api_function(lua, move |_, (a, d): (Value, Value)| {
            let addr = addr_arg(&a, 1, write_op)?;
            let data = bytes_arg(&d, 2, write_op)?;
            let data = data.as_bytes();
            s.access(write_op, addr, |b| b.write_bytes(space, addr, &data[..]))
        })?,
        "map" => api_function(lua, move |lua, (a, n): (Value, Value)| {
            let addr = addr_arg(&a, 1, map_op)?;
            let len = len_arg(&n, 2, map_op)?;
            crate::object_types(lua, &s)?;
            window::map(lua, &s, space, addr, len)
        })?,
        _ => return Ok(None),
    };
    Ok(Some(f))
}

/// The `mem` call `name` (one of MEM_CALLS), made alone: `install` makes
/// each the first time a script uses it. None for any other name.
pub fn mem_call(lua: &Lua, session: &Rc<Session>, name: &str) -> mlua::Result<Option<Function>> {
    if let Some(f) = space_call(lua, session, Space::Phys, name)? {
        return Ok(Some(f));
    }
    let s = session.clone();
    let f = match name {
        "extract" => api_function(lua, move |lua, a: Value| {
            let vaddr = addr_arg(&a, 1, ops::MEM_EXTRACT)?;
            let e = pages::extract_one(&s, vaddr)?;
            Ok(pages::extract_table(lua, &e)?)
        })?,
        "extract_range" => api_function(lua, move |lua, (a, n): (Value, Value)| {
            let vaddr = addr_arg(&a, 1, ops::MEM_EXTRACT_RANGE)?;
            let len = len_arg(&n, 2, ops::MEM_EXTRACT_RANGE)?;
            let list = pages::extract_range(&s, ops::MEM_EXTRACT_RANGE, vaddr, len)?;
            crate::object_types(lua, &s)?;
            Ok(pages::push_list(lua, list)?)
        })?,
        "alloc" => api_function(lua, move |lua, n: Value| {
            let len = len_arg(&n, 1, ops::MEM_ALLOC)?;
            crate::object_types(lua, &s)?;
            buffer::alloc(lua, &s, len)
        })?,
        _ => return Ok(None),
    };
    Ok(Some(f))
}

/// The `kmem` table.
pub fn kmem_table(lua: &Lua, session: &Rc<Session>) -> mlua::Result<Table> {
    let t = lua.create_table()?;
    for name in SPACE_CALLS {
        t.set(name, space_call(lua, session, Space::Kernel, name)?)?;
    }
    let s = session.clone();
    t.set(
        "symbol",
        api_function(lua, move |_, name: Value| {
            let Value::String(name) = &name else {
                return Err(arg_error(
                    1,
                    ops::KMEM_SYMBOL,
                    format!("symbol name expected, got {}", got(&name)),
                ));
            };
            // Kernel symbols are ASCII: other bytes name none.
            let Ok(name) = name.to_str().map(|n| n.to_string()) else {
                let shown = String::from_utf8_lossy(&name.as_bytes()).into_owned();
                return Err(RtError::new(
                    Errno::ENOENT,
                    ops::KMEM_SYMBOL,
                    format!(
                        "no kernel symbol named '{}' (not text)",
                        shown.escape_debug()
                    ),
                )
                .into());
            };
            s.with(ops::KMEM_SYMBOL, |b| b.symbol(&name)).map(lua_int)
        })?,
    )?;
    Ok(t)
}
