//! Buffers: `mem.alloc(len)`, page-aligned memory of this process that
//! scripts look up and use as DMA targets (API.md, `mem.alloc`).
//!
//! After `b:free()` every use of the buffer, fields included, is an EINVAL
//! error saying it was freed; a buffer the garbage collector takes is freed
//! in the backend too, as munmap would on process exit.

use std::cell::Cell;
use std::rc::Rc;

use memlua_runtime::{Errno, Error as RtError, Width};
use mlua::{Lua, UserData, UserDataFields, Value};

use crate::errors::{api_function, api_method, index_function, Fail, Res};
use crate::mem::check_bulk_len;
use crate::numbers::{bytes_arg, len_arg, lua_int, offset_arg, value_arg};
use crate::pages;
use crate::session::Session;

pub struct Buffer {
    session: Rc<Session>,
    addr: u64,
    len: u64,
    freed: Cell<bool>,
}

impl Buffer {
    /// The base address, or the "freed" error for `op`.
    fn live(&self, op: &str) -> Res<u64> {
        if self.freed.get() {
            return Err(Fail::Rt(
                RtError::new(
                    Errno::EINVAL,
                    op,
                    "this buffer was freed by b:free(); its addresses are invalid now \
                     (allocate another with mem.alloc)",
                )
                .at(self.addr),
            ));
        }
        Ok(self.addr)
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        if !self.freed.get() {
            // Best effort: a busy backend (collected inside a device
            // callback) keeps the pages until the session ends.
            let _ = self
                .session
                .with("buffer.free", |b| b.buffer_free(self.addr));
        }
    }
}

pub fn alloc(lua: &Lua, session: &Rc<Session>, len: u64) -> Res<Value> {
    let b = session.with("mem.alloc", |b| b.alloc(len))?;
    let buf = Buffer {
        session: session.clone(),
        addr: b.addr,
        len: b.len,
        freed: Cell::new(false),
    };
    Ok(Value::UserData(lua.create_userdata(buf)?))
}

const READ: [(&str, &str, Width); 4] = [
    ("read8", "buffer.read8", Width::W8),
    ("read16", "buffer.read16", Width::W16),
    ("read32", "buffer.read32", Width::W32),
    ("read64", "buffer.read64", Width::W64),
];
const WRITE: [(&str, &str, Width); 4] = [
    ("write8", "buffer.write8", Width::W8),
    ("write16", "buffer.write16", Width::W16),
    ("write32", "buffer.write32", Width::W32),
    ("write64", "buffer.write64", Width::W64),
];

fn index(lua: &Lua) -> mlua::Result<Value> {
    const T: &str = "memlua.buffer";
    let methods = lua.create_table()?;
    for (name, op, w) in READ {
        methods.set(
            name,
            api_method(lua, name, T, move |_, b: &Buffer, off: Value| {
                let off = offset_arg(&off, 1, name)?;
                let base = b.live(op)?;
                b.session
                    .with(op, |be| be.buffer_read(base, off, w))
                    .map(lua_int)
            })?,
        )?;
    }
    for (name, op, w) in WRITE {
        methods.set(
            name,
            api_method(
                lua,
                name,
                T,
                move |_, b: &Buffer, (off, v): (Value, Value)| {
                    let off = offset_arg(&off, 1, name)?;
                    let v = value_arg(&v, 2, name)?;
                    let base = b.live(op)?;
                    b.session.with(op, |be| be.buffer_write(base, off, w, v))
                },
            )?,
        )?;
    }
    methods.set(
        "read",
        api_method(
            lua,
            "read",
            T,
            |lua, b: &Buffer, (off, n): (Value, Value)| {
                let off = offset_arg(&off, 1, "read")?;
                let n = len_arg(&n, 2, "read")?;
                let base = b.live("buffer.read")?;
                check_bulk_len("buffer.read", base.wrapping_add(off), n)?;
                if off.checked_add(n).is_none_or(|end| end > b.len) {
                    return Err(Fail::Rt(
                        RtError::new(
                            Errno::EINVAL,
                            "buffer.read",
                            format!(
                                "offset {off:#x} + {n} bytes is past the end of the {}-byte buffer",
                                b.len
                            ),
                        )
                        .at(base.wrapping_add(off)),
                    ));
                }
                let mut out = vec![0u8; n as usize];
                b.session.with("buffer.read", |be| {
                    be.buffer_read_bytes(base, off, &mut out)
                })?;
                Ok(lua.create_string(out)?)
            },
        )?,
    )?;
    methods.set(
        "write",
        api_method(
            lua,
            "write",
            T,
            |_, b: &Buffer, (off, s): (Value, Value)| {
                let off = offset_arg(&off, 1, "write")?;
                let s = bytes_arg(&s, 2, "write")?;
                let base = b.live("buffer.write")?;
                let data = s.as_bytes();
                b.session.with("buffer.write", |be| {
                    be.buffer_write_bytes(base, off, &data[..])
                })
            },
        )?,
    )?;
    methods.set(
        "lock",
        api_method(lua, "lock", T, |_, b: &Buffer, ()| {
            let base = b.live("buffer.lock")?;
            b.session.with("buffer.lock", |be| be.buffer_lock(base))
        })?,
    )?;
    methods.set(
        "unlock",
        api_method(lua, "unlock", T, |_, b: &Buffer, ()| {
            let base = b.live("buffer.unlock")?;
            b.session.with("buffer.unlock", |be| be.buffer_unlock(base))
        })?,
    )?;
    methods.set(
        "free",
        api_method(lua, "free", T, |_, b: &Buffer, ()| {
            let base = b.live("buffer.free")?;
            b.session.with("buffer.free", |be| be.buffer_free(base))?;
            b.freed.set(true);
            Ok(())
        })?,
    )?;
    methods.set(
        "pages",
        api_method(lua, "pages", T, |lua, b: &Buffer, ()| {
            let base = b.live("buffer.pages")?;
            let list = pages::extract_range(&b.session, "buffer.pages", base, b.len)?;
            Ok(pages::push_list(lua, list)?)
        })?,
    )?;
    let getter = api_function(lua, |_, (this, key): (Value, Value)| {
        let Value::UserData(ud) = &this else {
            return Ok(Value::Nil);
        };
        let b = ud.borrow::<Buffer>()?;
        Ok(match &key {
            // Still readable once freed: the numbers stay what they were,
            // so a script can check that the addresses became invalid.
            Value::String(k) if k == "addr" => lua_int(b.addr),
            Value::String(k) if k == "len" => lua_int(b.len),
            _ => Value::Nil,
        })
    })?;
    index_function(lua, methods, Some(getter))
}

impl UserData for Buffer {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field("__name", "memlua.buffer");
        fields.add_meta_field_with("__index", index);
    }

    fn add_methods<M: mlua::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method("__tostring", |_, b, ()| {
            Ok(if b.freed.get() {
                format!("buffer (freed, was {:#x})", b.addr)
            } else {
                format!("buffer [{:#x}, +{:#x}]", b.addr, b.len)
            })
        });
    }
}
