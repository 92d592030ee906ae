//! memlua's own userdata (windows, page lists, buffers): blocks Lua
//! allocates, each starting with a 64-bit tag that names its type, checked
//! with the block's exact size before anything reads it.
//!
//! mlua's userdata know their type by their metatable, and the `debug`
//! library, which memlua keeps as lua.c does, can give any value any
//! metatable or user value: a window dressed as a page list would be read
//! as one. A script cannot write a block's bytes, so a tag inside the block
//! cannot be forged: every method, metamethod and fast path finds its
//! object through [`at`] or [`with`], and a value that is not what it
//! claims is a "bad self" error, never a wrong read.
//!
//! The Rust value inside a block is dropped by the block's `__gc`, which
//! then clears the tag, so a `__gc` called by hand leaves a dead object that
//! every call refuses.

use std::ffi::{c_int, CStr};
use std::mem::size_of;
use std::panic::{catch_unwind, AssertUnwindSafe};

use mlua::{ffi, FromLuaMulti, Function, IntoLuaMulti, Lua, Table, Value};

use crate::calls::api_function;
use crate::errors::{bad_self, Res};

/// A type that lives in a tagged block. Methods work on a clone taken
/// when the call starts ([`get`]), so a script that runs `__gc` by hand
/// from a device callback cannot pull an object from under a call.
pub trait Object: Clone + Sized + 'static {
    /// Unique among memlua's objects; never 0 (a dead block's tag).
    const TAG: u64;
    /// The metatable's registry name and `__name` (`memlua.window`).
    const NAME: &'static CStr;
    /// Runs when the collector takes the block, before the object drops.
    fn collected(&mut self) {}
}

#[repr(C)]
struct Block<T> {
    tag: u64,
    obj: T,
}

/// The object of type `T` at stack index `idx`, if that value is one.
///
/// # Safety
/// `l` is a running Lua state and `idx` a valid index. The pointer is
/// valid while the value stays reachable and its `__gc` has not run.
#[inline(always)]
pub unsafe fn at<T: Object>(l: *mut ffi::lua_State, idx: c_int) -> Option<*mut T> {
    // SAFETY: the caller's promise; the block is read only once its size
    // proves it is a Block<T>, and only its tag before the tag matched.
    // Two calls, not three: lua_rawlen is a full userdata's size but also
    // a string's or a table's length, and lua_touserdata is null for those
    // (and only a light userdata's pointer, whose rawlen is 0, otherwise).
    unsafe {
        if ffi::lua_rawlen(l, idx) != size_of::<Block<T>>() {
            return None;
        }
        let b = ffi::lua_touserdata(l, idx) as *mut Block<T>;
        if b.is_null() {
            return None;
        }
        ((*b).tag == T::TAG).then(|| std::ptr::addr_of_mut!((*b).obj))
    }
}

/// A clone of the object `v` is, if it is a live `T`.
pub fn get<T: Object>(lua: &Lua, v: &Value) -> Option<T> {
    if !matches!(v, Value::UserData(_)) {
        return None;
    }
    let mut out = None;
    // SAFETY: exec_raw pushes `v` and runs the closure on the stack it
    // made; the object is cloned while the pushed value keeps its block
    // alive. Cloning runs no Lua code.
    unsafe {
        lua.exec_raw::<()>(v, |l| {
            if let Some(p) = at::<T>(l, -1) {
                out = Some((*p).clone());
            }
            ffi::lua_pop(l, 1);
        })
    }
    .ok()?;
    out
}

/// An API method of `T`: `self` must be a live `T` (else "calling 'name'
/// on bad self"), the rest are `A`.
pub fn method<T, A, R, F>(lua: &Lua, name: &'static str, f: F) -> mlua::Result<Function>
where
    T: Object,
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, T, A) -> Res<R> + 'static,
{
    let expected = T::NAME.to_str().unwrap_or_default();
    api_function(lua, move |lua, (this, args): (Value, A)| {
        let obj = get::<T>(lua, &this).ok_or_else(|| bad_self(lua, name, expected, &this))?;
        f(lua, obj, args)
    })
}

/// A new block holding `obj`, with `T`'s metatable (see [`metatable`]).
pub fn create<T: Object>(lua: &Lua, obj: T) -> mlua::Result<Value> {
    let mt: Table = lua.named_registry_value(T::NAME.to_str().unwrap_or_default())?;
    let mut obj = Some(obj);
    // SAFETY: exec_raw pushes the metatable; a block of exactly Block<T>'s
    // size is created and fully written before anything can run, gets the
    // metatable, and is left on top for exec_raw to return.
    unsafe {
        lua.exec_raw::<Value>(mt, |l| {
            let b = ffi::lua_newuserdatauv(l, size_of::<Block<T>>(), 0) as *mut Block<T>;
            if let Some(obj) = obj.take() {
                std::ptr::write(b, Block { tag: T::TAG, obj });
            }
            ffi::lua_rotate(l, -2, 1);
            ffi::lua_setmetatable(l, -2);
        })
    }
}

/// Creates `T`'s metatable once per state: `__name`, `__index` (methods
/// and fields), `__tostring`, any `extra` metamethods, and a `__gc` that
/// drops the object.
pub fn metatable<T: Object>(
    lua: &Lua,
    index: Value,
    tostring: Function,
    extra: &[(&str, Function)],
) -> mlua::Result<()> {
    let name = T::NAME.to_str().unwrap_or_default();
    if lua.named_registry_value::<Option<Table>>(name)?.is_some() {
        return Ok(());
    }
    let mt = lua.create_table()?;
    mt.set("__name", name)?;
    mt.set("__index", index)?;
    mt.set("__tostring", tostring)?;
    for (k, f) in extra {
        mt.set(*k, f)?;
    }
    // SAFETY: pushes one C function, which exec_raw returns.
    let gc = unsafe { lua.exec_raw::<Function>((), |l| ffi::lua_pushcfunction(l, collect::<T>)) }?;
    mt.set("__gc", gc)?;
    lua.set_named_registry_value(name, mt)
}

/// `__gc`: drops the object and marks the block dead. A panic in a drop
/// must not unwind into Lua, so it is caught (and the object leaked).
unsafe extern "C-unwind" fn collect<T: Object>(l: *mut ffi::lua_State) -> c_int {
    // SAFETY: Lua calls this with the block at index 1 (or, called by
    // hand, anything: `at` checks). The tag is cleared first, so no other
    // call can reach the object while or after it is dropped.
    unsafe {
        if let Some(p) = at::<T>(l, 1) {
            let b = ffi::lua_touserdata(l, 1) as *mut Block<T>;
            (*b).tag = 0;
            let _ = catch_unwind(AssertUnwindSafe(|| {
                (*p).collected();
                std::ptr::drop_in_place(p)
            }));
        }
    }
    0
}
