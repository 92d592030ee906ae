//! Buffers: `mem.alloc(len)`, page-aligned memory of this process that
//! scripts look up and use as DMA targets (docs/API.md, `mem.alloc`).
//!
//! Every access is checked by the session's buffer table (liveness,
//! bounds, alignment, the value's width: memlua_runtime::buffers) and then
//! reaches the backend as a `Space::Process` access, so layers see buffer
//! accesses like any other. After `b:free()` every use but `b.addr` and
//! `b.len` is an EINVAL saying it was freed; a buffer the garbage collector
//! takes is unmapped too, as munmap would on process exit.

use std::rc::Rc;

use memlua_runtime::buffers::BufferRef;
use memlua_runtime::{ops, Space, Width};
use mlua::{Lua, Value};

use crate::args::check_bulk_len;
use crate::calls::{api_function, index_function};
use crate::errors::Res;
use crate::numbers::{bytes_arg, len_arg, lua_int, offset_arg, value_arg};
use crate::objects::{self, Object};
use crate::pages;
use crate::session::Session;

/// A buffer as scripts hold it (a tagged block, objects.rs).
#[derive(Clone)]
pub struct Buffer {
    session: Rc<Session>,
    buf: BufferRef,
    len: u64,
}

impl Object for Buffer {
    const TAG: u64 = u64::from_be_bytes(*b"mlbuffr\x01");
    const NAME: &'static std::ffi::CStr = c"memlua.buffer";

    fn collected(&mut self) {
        self.session.release(self.buf);
    }
}

pub fn alloc(lua: &Lua, session: &Rc<Session>, len: u64) -> Res<Value> {
    let buf = Buffer {
        session: session.clone(),
        buf: session.alloc(len)?,
        len,
    };
    Ok(objects::create(lua, buf)?)
}

fn index(lua: &Lua) -> mlua::Result<Value> {
    const NAMES: [(&str, &str, Width); 4] = [
        ("read8", "write8", Width::W8),
        ("read16", "write16", Width::W16),
        ("read32", "write32", Width::W32),
        ("read64", "write64", Width::W64),
    ];
    let methods = lua.create_table()?;
    for (read, write, w) in NAMES {
        methods.set(
            read,
            objects::method(lua, read, move |_, b: Buffer, off: Value| {
                let off = offset_arg(&off, 1, read)?;
                let op = ops::access(Space::Process, w, false);
                let addr = b.session.buffers().access(op, b.buf, off, w, None)?;
                b.session
                    .access(op, addr, |be| be.read(Space::Process, addr, w))
                    .map(lua_int)
            })?,
        )?;
        methods.set(
            write,
            objects::method(lua, write, move |_, b: Buffer, (off, v): (Value, Value)| {
                let off = offset_arg(&off, 1, write)?;
                let v = value_arg(&v, 2, write)?;
                let op = ops::access(Space::Process, w, true);
                let addr = b.session.buffers().access(op, b.buf, off, w, Some(v))?;
                b.session
                    .access(op, addr, |be| be.write(Space::Process, addr, w, v))
            })?,
        )?;
    }
    methods.set(
        "read",
        objects::method(lua, "read", |lua, b: Buffer, (off, n): (Value, Value)| {
            let off = offset_arg(&off, 1, "read")?;
            let n = len_arg(&n, 2, "read")?;
            let op = ops::bulk(Space::Process, false);
            b.session.buffers().len_of(op, b.buf)?;
            check_bulk_len(op, b.buf.base.wrapping_add(off), n)?;
            let addr = b.session.buffers().span(op, b.buf, off, n)?;
            let mut out = vec![0u8; n as usize];
            b.session
                .with(op, |be| be.read_bytes(Space::Process, addr, &mut out))?;
            Ok(lua.create_string(out)?)
        })?,
    )?;
    methods.set(
        "write",
        objects::method(lua, "write", |_, b: Buffer, (off, s): (Value, Value)| {
            let off = offset_arg(&off, 1, "write")?;
            let s = bytes_arg(&s, 2, "write")?;
            let data = s.as_bytes();
            let op = ops::bulk(Space::Process, true);
            let addr = b
                .session
                .buffers()
                .span(op, b.buf, off, data.len() as u64)?;
            b.session
                .with(op, |be| be.write_bytes(Space::Process, addr, &data[..]))
        })?,
    )?;
    methods.set(
        "lock",
        objects::method(lua, "lock", |_, b: Buffer, ()| {
            let len = b.session.buffers().len_of(ops::BUFFER_LOCK, b.buf)?;
            b.session
                .with(ops::BUFFER_LOCK, |be| be.process_lock(b.buf.base, len))
        })?,
    )?;
    methods.set(
        "unlock",
        objects::method(lua, "unlock", |_, b: Buffer, ()| {
            let len = b.session.buffers().len_of(ops::BUFFER_UNLOCK, b.buf)?;
            b.session
                .with(ops::BUFFER_UNLOCK, |be| be.process_unlock(b.buf.base, len))
        })?,
    )?;
    methods.set(
        "free",
        objects::method(lua, "free", |_, b: Buffer, ()| b.session.free(b.buf))?,
    )?;
    methods.set(
        "pages",
        objects::method(lua, "pages", |lua, b: Buffer, ()| {
            b.session.buffers().len_of(ops::BUFFER_PAGES, b.buf)?;
            let list = pages::extract_range(&b.session, ops::BUFFER_PAGES, b.buf.base, b.len)?;
            Ok(pages::push_list(lua, list)?)
        })?,
    )?;
    let getter = api_function(lua, |lua, (this, key): (Value, Value)| {
        let Some(b) = objects::get::<Buffer>(lua, &this) else {
            return Ok(Value::Nil);
        };
        Ok(match &key {
            // Still readable once freed: the numbers stay what they were,
            // so a script can check that the addresses became invalid.
            Value::String(k) if k == "addr" => lua_int(b.buf.base),
            Value::String(k) if k == "len" => lua_int(b.len),
            _ => Value::Nil,
        })
    })?;
    index_function(lua, methods, Some(getter))
}

/// Creates the buffer metatable once per state.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let tostring = api_function(lua, |lua, this: Value| {
        let Some(b) = objects::get::<Buffer>(lua, &this) else {
            return Ok("buffer (collected)".to_string());
        };
        let live = b.session.buffers().len_of("", b.buf).is_ok();
        Ok(if live {
            format!("buffer [{:#x}, +{:#x}]", b.buf.base, b.len)
        } else {
            format!("buffer (freed, was {:#x})", b.buf.base)
        })
    })?;
    objects::metatable::<Buffer>(lua, index(lua)?, tostring, &[])
}
