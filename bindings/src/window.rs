//! Windows: `mem.map(addr, len)` / `kmem.map`, a bounds-checked view that is
//! the fast path for loops (docs/API.md, Windows).
//!
//! Per access the work is one bounds check and one backend call, or one
//! volatile access where the backend gave a direct mapping. A window is a
//! tagged block (objects.rs) the C fast paths (fast.rs) read directly.

use std::rc::Rc;

use memlua_runtime::{ops, Cleared, DirectMap, Errno, Error as RtError, Space, Width};
use mlua::{Lua, Value};

use crate::args::check_bulk_len;
use crate::calls::{api_function, index_function};
use crate::errors::{Fail, Res};
use crate::fast;
use crate::numbers::{bytes_arg, len_arg, lua_int, offset_arg, value_arg};
use crate::objects::{self, Object};
use crate::session::Session;

#[derive(Clone)]
pub struct Window {
    pub base: u64,
    pub len: u64,
    pub space: Space,
    pub session: Rc<Session>,
    /// The window's first byte in a direct mapping, or null: accesses then
    /// go through the backend.
    pub ptr: *mut u8,
    /// Whether `ptr` may be written through.
    pub direct_write: bool,
    /// What the backend's layers cleared of the whole window when it was
    /// made (an allow-list): such accesses skip their checks.
    pub cleared: Cleared,
    /// Keeps the mapping behind `ptr` alive.
    _direct: Option<DirectMap>,
}

impl Object for Window {
    const TAG: u64 = u64::from_be_bytes(*b"mlwindw\x01");
    const NAME: &'static std::ffi::CStr = c"memlua.window";
}

impl Window {
    /// The address of `[off, off+n)`, if it lies inside the window.
    #[inline(always)]
    pub fn address(&self, off: u64, n: u64) -> Option<u64> {
        (off <= self.len && n <= self.len - off).then(|| self.base.wrapping_add(off))
    }

    /// The address of `[off, off+n)`, or an EINVAL naming the offset and the
    /// window's length; nothing is touched then.
    fn span(&self, off: u64, n: u64, op: &'static str) -> Res<u64> {
        self.address(off, n).ok_or_else(|| {
            Fail::Rt(
                RtError::new(
                    Errno::EINVAL,
                    op,
                    format!(
                        "offset {off:#x} ({n} bytes) is past the end of this window of length {len:#x}; \
                         valid offsets are below {len:#x} (map a larger window to reach further)",
                        len = self.len
                    ),
                )
                .at(self.base.wrapping_add(off)),
            )
        })
    }
}

const NAMES: [(&str, &str, Width); 4] = [
    ("read8", "write8", Width::W8),
    ("read16", "write16", Width::W16),
    ("read32", "write32", Width::W32),
    ("read64", "write64", Width::W64),
];

fn index(lua: &Lua) -> mlua::Result<Value> {
    let methods = lua.create_table()?;
    for (read, write, w) in NAMES {
        let slow = objects::method(lua, read, move |_, win: Window, off: Value| {
            let addr = win.span(offset_arg(&off, 1, read)?, w.bytes(), ops::window(w, false))?;
            let space = win.space;
            win.session
                .access(ops::access(space, w, false), addr, |b| {
                    b.read(space, addr, w)
                })
                .map(lua_int)
        })?;
        methods.set(read, fast::window_method(lua, w, false, slow)?)?;
        let slow = objects::method(
            lua,
            write,
            move |_, win: Window, (off, v): (Value, Value)| {
                let off = offset_arg(&off, 1, write)?;
                let v = value_arg(&v, 2, write)?;
                let addr = win.span(off, w.bytes(), ops::window(w, true))?;
                let space = win.space;
                win.session.access(ops::access(space, w, true), addr, |b| {
                    b.write(space, addr, w, v)
                })
            },
        )?;
        methods.set(write, fast::window_method(lua, w, true, slow)?)?;
    }
    methods.set(
        "read",
        objects::method(lua, "read", |lua, win: Window, (off, n): (Value, Value)| {
            let off = offset_arg(&off, 1, "read")?;
            let n = len_arg(&n, 2, "read")?;
            let addr = win.span(off, n, ops::WINDOW_READ)?;
            check_bulk_len(ops::WINDOW_READ, addr, n)?;
            let space = win.space;
            let mut buf = vec![0u8; n as usize];
            win.session.access(ops::bulk(space, false), addr, |b| {
                b.read_bytes(space, addr, &mut buf)
            })?;
            Ok(lua.create_string(buf)?)
        })?,
    )?;
    methods.set(
        "write",
        objects::method(lua, "write", |_, win: Window, (off, s): (Value, Value)| {
            let off = offset_arg(&off, 1, "write")?;
            let s = bytes_arg(&s, 2, "write")?;
            let data = s.as_bytes();
            let addr = win.span(off, data.len() as u64, ops::WINDOW_WRITE)?;
            let space = win.space;
            win.session.access(ops::bulk(space, true), addr, |b| {
                b.write_bytes(space, addr, &data[..])
            })
        })?,
    )?;
    let getter = api_function(lua, |lua, (this, key): (Value, Value)| {
        let Some(win) = objects::get::<Window>(lua, &this) else {
            return Ok(Value::Nil);
        };
        Ok(match &key {
            Value::String(k) if k == "base" => lua_int(win.base),
            Value::String(k) if k == "len" => lua_int(win.len),
            _ => Value::Nil,
        })
    })?;
    index_function(lua, methods, Some(getter))
}

/// Creates the window metatable once per state.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    let tostring = api_function(lua, |lua, this: Value| {
        Ok(match objects::get::<Window>(lua, &this) {
            Some(w) => format!("window {}[{:#x}, +{:#x}]", w.space.table(), w.base, w.len),
            None => "window (collected)".to_string(),
        })
    })?;
    objects::metatable::<Window>(lua, index(lua)?, tostring, &[])
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
    // access it directly (the native backend's mmap). Layers that check
    // accesses check the whole window here, once.
    let (direct, cleared) = session.with(op, |b| {
        Ok((b.map_direct(space, addr, len), b.cleared(space, addr, len)))
    })?;
    let direct = direct.filter(|d| d.len >= len && !d.ptr.is_null());
    let w = Window {
        base: addr,
        len,
        space,
        session: session.clone(),
        ptr: direct.as_ref().map_or(std::ptr::null_mut(), |d| d.ptr),
        direct_write: direct.as_ref().is_some_and(|d| d.writable),
        cleared,
        _direct: direct,
    };
    Ok(objects::create(lua, w)?)
}
