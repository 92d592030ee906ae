//! Windows: `mem.map(addr, len)` / `kmem.map`, a bounds-checked view that is
//! the fast path for loops (API.md, Physical and kernel memory).
//!
//! Per access the work is one bounds check and one backend call. The state
//! is a plain `#[repr(C)]` struct so a later hand-written `lua_CFunction`
//! can read it straight out of the userdata block.

use std::rc::Rc;

use memlua_runtime::{ops, DirectMap, Errno, Error as RtError, Space, Width};
use mlua::{Lua, UserData, UserDataFields, Value};

use crate::args::check_bulk_len;
use crate::calls::{api_function, api_method, index_function};
use crate::errors::{Fail, Res};
use crate::fast::{self, WindowState};
use crate::numbers::{bytes_arg, len_arg, lua_int, offset_arg, value_arg};
use crate::session::Session;

pub struct Window {
    pub state: WindowState,
    pub session: Rc<Session>,
    /// The direct mapping behind `state.ptr`, if the backend gave one.
    pub _direct: Option<DirectMap>,
}

impl Window {
    /// The address of `[off, off+n)`, or an EINVAL naming the offset and the
    /// window's length; nothing is touched then.
    #[inline]
    fn span(&self, off: u64, n: u64, op: &'static str) -> Res<u64> {
        let WindowState { base, len, .. } = self.state;
        if off <= len && n <= len - off {
            return Ok(base.wrapping_add(off));
        }
        Err(Fail::Rt(
            RtError::new(
                Errno::EINVAL,
                op,
                format!(
                    "offset {off:#x} ({n} bytes) is past the end of this window of length {len:#x}; \
                     valid offsets are below {len:#x} (map a larger window to reach further)"
                ),
            )
            .at(base.wrapping_add(off)),
        ))
    }
}

const READ: [(&str, Width); 4] = [
    ("read8", Width::W8),
    ("read16", Width::W16),
    ("read32", Width::W32),
    ("read64", Width::W64),
];
const WRITE: [(&str, Width); 4] = [
    ("write8", Width::W8),
    ("write16", Width::W16),
    ("write32", Width::W32),
    ("write64", Width::W64),
];

fn index(lua: &Lua) -> mlua::Result<Value> {
    const T: &str = "memlua.window";
    let methods = lua.create_table()?;
    for (name, w) in READ {
        let slow = api_method(lua, name, T, move |_, win: &Window, off: Value| {
            let addr = win.span(offset_arg(&off, 1, name)?, w.bytes(), ops::window(w, false))?;
            let space = win.state.space;
            win.session
                .access(ops::access(space, w, false), addr, |b| {
                    b.read(space, addr, w)
                })
                .map(lua_int)
        })?;
        methods.set(name, fast::window_method(lua, w, false, slow)?)?;
    }
    for (name, w) in WRITE {
        let slow = api_method(
            lua,
            name,
            T,
            move |_, win: &Window, (off, v): (Value, Value)| {
                let off = offset_arg(&off, 1, name)?;
                let v = value_arg(&v, 2, name)?;
                let addr = win.span(off, w.bytes(), ops::window(w, true))?;
                let space = win.state.space;
                win.session.access(ops::access(space, w, true), addr, |b| {
                    b.write(space, addr, w, v)
                })
            },
        )?;
        methods.set(name, fast::window_method(lua, w, true, slow)?)?;
    }
    methods.set(
        "read",
        api_method(
            lua,
            "read",
            T,
            |lua, win: &Window, (off, n): (Value, Value)| {
                let off = offset_arg(&off, 1, "read")?;
                let n = len_arg(&n, 2, "read")?;
                let addr = win.span(off, n, ops::WINDOW_READ)?;
                check_bulk_len(ops::WINDOW_READ, addr, n)?;
                let space = win.state.space;
                let mut buf = vec![0u8; n as usize];
                win.session.access(ops::bulk(space, false), addr, |b| {
                    b.read_bytes(space, addr, &mut buf)
                })?;
                Ok(lua.create_string(buf)?)
            },
        )?,
    )?;
    methods.set(
        "write",
        api_method(
            lua,
            "write",
            T,
            |_, win: &Window, (off, s): (Value, Value)| {
                let off = offset_arg(&off, 1, "write")?;
                let s = bytes_arg(&s, 2, "write")?;
                let data = s.as_bytes();
                let addr = win.span(off, data.len() as u64, ops::WINDOW_WRITE)?;
                let space = win.state.space;
                win.session.access(ops::bulk(space, true), addr, |b| {
                    b.write_bytes(space, addr, &data[..])
                })
            },
        )?,
    )?;
    let getter = api_function(lua, |_, (this, key): (Value, Value)| {
        let Value::UserData(ud) = &this else {
            return Ok(Value::Nil);
        };
        let win = ud.borrow::<Window>()?;
        Ok(match &key {
            Value::String(k) if k == "base" => lua_int(win.state.base),
            Value::String(k) if k == "len" => lua_int(win.state.len),
            _ => Value::Nil,
        })
    })?;
    index_function(lua, methods, Some(getter))
}

impl UserData for Window {
    fn add_fields<F: UserDataFields<Self>>(fields: &mut F) {
        fields.add_meta_field("__name", "memlua.window");
        fields.add_meta_field_with("__index", index);
    }

    fn add_methods<M: mlua::UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method("__tostring", |_, w, ()| {
            Ok(format!(
                "window {}[{:#x}, +{:#x}]",
                w.state.space.table(),
                w.state.base,
                w.state.len
            ))
        });
    }
}

/// `mem.map(addr, len)`: the window, after checking it does not wrap.
pub fn map(lua: &Lua, session: &Rc<Session>, space: Space, addr: u64, len: u64) -> Res<Value> {
    let op = ops::map(space);
    if len == 0 {
        return Err(Fail::Rt(
            RtError::new(Errno::EINVAL, op, "a window needs a length above 0").at(addr),
        ));
    }
    if addr.checked_add(len).is_none() {
        return Err(Fail::Rt(
            RtError::new(
                Errno::EINVAL,
                op,
                "the window would run past the end of the address space",
            )
            .span(addr, len),
        ));
    }
    // Where the backend can map the whole window now, the fast methods
    // access it directly (the native backend's mmap).
    let direct = session
        .with(op, |b| Ok(b.map_direct(space, addr, len)))?
        .filter(|d| d.len >= len && !d.ptr.is_null());
    let state = WindowState {
        base: addr,
        len,
        space,
        session: Rc::as_ptr(session),
        ptr: direct.as_ref().map_or(std::ptr::null_mut(), |d| d.ptr),
        direct_write: direct.as_ref().is_some_and(|d| d.writable),
    };
    let w = Window {
        state,
        session: session.clone(),
        _direct: direct.clone(),
    };
    let ud = Value::UserData(lua.create_userdata(w)?);
    let keep = Value::UserData(lua.create_any_userdata((session.clone(), direct))?);
    fast::attach_state(lua, &ud, state, keep)?;
    Ok(ud)
}
