//! How an API function is called and how it raises (docs/API.md, Errors).
//!
//! mlua raises every error returned by a Rust callback as its own wrapped
//! userdata, which is neither an error table nor a plain string. So each API
//! function is two layers: an mlua callback that never fails for our own
//! errors but returns `false, value` instead, and around it a tiny C closure
//! ([`raise_trampoline`]) that calls it and, on `false`, raises `value` with
//! `lua_error`. The trampoline holds no Rust values, so the longjmp of
//! `lua_error` skips no destructor. The fast paths (fast.rs) fall back on
//! these functions for anything unusual.

use std::ffi::c_int;

use mlua::{ffi, FromLuaMulti, Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

use memlua_runtime::error::{capped, MESSAGE_MAX};
use memlua_runtime::{Errno, Error as RtError};

use crate::errors::{error_value, Fail, Res};

/// Wraps an API function body as a Lua function that raises our errors as
/// API.md describes.
pub fn api_function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> Res<R> + 'static,
{
    let inner = inner_function(lua, f)?;
    // SAFETY: `exec_raw` runs the closure with `inner` on top of the stack
    // in a protected call; `lua_pushcclosure` pops it as the upvalue and
    // leaves the new closure, which `exec_raw` returns.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            ffi::lua_pushcclosure(state, raise_trampoline, 1)
        })
    }
}

/// `api_function` for a call whose first argument is a descriptor table
/// (`memrange.set{...}`, `sim.device{...}`): the named fields are read in
/// C, `__index` and all, into a plain table the body gets instead. A
/// raising `__index` thus raises its own error value to the script (mlua
/// would turn it into a string with a traceback), and the body sees one
/// snapshot of the fields however often it reads them.
pub fn api_function_fields<A, R, F>(lua: &Lua, fields: &[&str], f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> Res<R> + 'static,
{
    let inner = inner_function(lua, f)?;
    let names = lua.create_sequence_from(fields.iter().copied())?;
    // SAFETY: as in `api_function`, with two upvalues: the body and the
    // list of field names.
    unsafe {
        lua.exec_raw::<Function>((inner, names), |state| {
            ffi::lua_pushcclosure(state, fields_trampoline, 2)
        })
    }
}

/// The mlua function the trampolines call: `true, results...` or
/// `false, error [, as_is]`.
fn inner_function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> Res<R> + 'static,
{
    lua.create_function(move |lua, args: A| match f(lua, args) {
        Ok(r) => {
            let mut out = r.into_lua_multi(lua)?;
            out.push_front(Value::Boolean(true));
            Ok(out)
        }
        Err(fail) => failure(lua, fail),
    })
}

/// `false, value [, as_is]` for the trampoline. No mlua error reaches the
/// script as mlua's own userdata: a Lua error raised in Lua code the body
/// ran is raised again in its own words (as_is: no second position), out
/// of memory is ENOMEM, anything else EINVAL naming it.
fn failure(lua: &Lua, fail: Fail) -> mlua::Result<MultiValue> {
    match fail {
        Fail::Arg(msg) => (false, msg).into_lua_multi(lua),
        Fail::Rt(e) => (false, error_value(lua, &e)?).into_lua_multi(lua),
        Fail::Lua(e) => match innermost(&e) {
            mlua::Error::RuntimeError(msg) => {
                // The traceback mlua's handler added is not the error's.
                let msg = msg.split("\nstack traceback:").next().unwrap_or_default();
                (false, capped(msg.to_string(), MESSAGE_MAX), true).into_lua_multi(lua)
            }
            mlua::Error::MemoryError(msg) => {
                let e = RtError::new(Errno::ENOMEM, "", format!("out of memory: {msg}"));
                (false, error_value(lua, &e)?).into_lua_multi(lua)
            }
            other => {
                let e = RtError::new(Errno::EINVAL, "", other.to_string());
                (false, error_value(lua, &e)?).into_lua_multi(lua)
            }
        },
    }
}

/// The error under mlua's callback and context wrappers.
fn innermost(e: &mlua::Error) -> &mlua::Error {
    match e {
        mlua::Error::CallbackError { cause, .. } | mlua::Error::WithContext { cause, .. } => {
            innermost(cause)
        }
        other => other,
    }
}

/// Copies the fields named in upvalue 2 out of a table first argument
/// into a plain table in its place, then goes on as `raise_trampoline`.
unsafe extern "C-unwind" fn fields_trampoline(state: *mut ffi::lua_State) -> c_int {
    if ffi::lua_type(state, 1) == ffi::LUA_TTABLE {
        let n = ffi::lua_rawlen(state, ffi::lua_upvalueindex(2)) as ffi::lua_Integer;
        ffi::lua_createtable(state, 0, n as c_int);
        for i in 1..=n {
            ffi::lua_rawgeti(state, ffi::lua_upvalueindex(2), i);
            ffi::lua_pushvalue(state, -1);
            // May run __index, and raise: nothing of Rust's is on this
            // frame for the longjmp to skip.
            ffi::lua_gettable(state, 1);
            ffi::lua_rawset(state, -3);
        }
        ffi::lua_replace(state, 1);
    }
    raise_trampoline(state)
}

/// Calls upvalue 1 with this call's arguments; it answers `true, results...`
/// or `false, error [, as_is]`. Raises the error; a string gets the
/// caller's position first, as `luaL_error` does, unless `as_is`.
unsafe extern "C-unwind" fn raise_trampoline(state: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, ffi::LUA_MULTRET);
    results_or_raise(state, 1)
}

/// Calls the API function at stack index `f` (one [`api_function`] made)
/// with the `nargs` values on top of the stack, in the frame of the running
/// C function: its results are left on top (the count is returned), its
/// error is raised from this frame. A fast path that falls back this way
/// leaves no extra unnamed `[C]: in ?` frame in a traceback, as calling the
/// API function itself (`lua_call`) would.
///
/// # Safety
/// The caller is a C function Lua is running, `f` is an acceptable index
/// holding a function made by [`api_function`], and `nargs` values are on
/// the stack above it (when `f` is on the stack). Nothing in the caller's
/// frame may need dropping: the error is raised with a longjmp.
pub unsafe fn call_api(state: *mut ffi::lua_State, f: c_int, nargs: c_int) -> c_int {
    // SAFETY: as the caller promises; upvalue 1 of the trampoline is the
    // mlua function that answers `true, ...` or `false, error`. A value a
    // script put in its place (`debug.setupvalue`) pushes nil instead, so
    // the stack keeps its shape and the call is Lua's "attempt to call".
    unsafe {
        let f = ffi::lua_absindex(state, f);
        if ffi::lua_getupvalue(state, f, 1).is_null() {
            ffi::lua_pushnil(state);
        }
        let base = ffi::lua_gettop(state) - nargs;
        ffi::lua_insert(state, base);
        ffi::lua_call(state, nargs, ffi::LUA_MULTRET);
        results_or_raise(state, base)
    }
}

/// After a call whose answer starts at `base`: the results above a `true`
/// (their count), or the error after a `false` raised.
unsafe fn results_or_raise(state: *mut ffi::lua_State, base: c_int) -> c_int {
    if ffi::lua_toboolean(state, base) == 0 {
        if ffi::lua_type(state, base + 1) == ffi::LUA_TSTRING
            && ffi::lua_toboolean(state, base + 2) == 0
        {
            ffi::luaL_where(state, 1);
            // Called from a fast path's fallback (a C function), level 1
            // has no line: the script is one level further out.
            if ffi::lua_rawlen(state, -1) == 0 {
                ffi::lua_pop(state, 1);
                ffi::luaL_where(state, 2);
            }
            ffi::lua_pushvalue(state, base + 1);
            ffi::lua_concat(state, 2);
        } else {
            ffi::lua_pushvalue(state, base + 1);
        }
        ffi::lua_error(state);
    }
    ffi::lua_remove(state, base);
    ffi::lua_gettop(state) - base + 1
}

/// An `__index` for userdata: methods from a table (upvalue 1), anything
/// else from a getter function (upvalue 2, called with the object and the
/// key; may be nil). A method lookup is one `lua_rawget`, so `w:read32`
/// costs no Rust call before the method itself.
pub fn index_function(lua: &Lua, methods: Table, getter: Option<Function>) -> mlua::Result<Value> {
    // SAFETY: both values are pushed by `exec_raw` before the closure runs;
    // `lua_pushcclosure` pops them as upvalues 1 and 2.
    unsafe {
        lua.exec_raw::<Value>((methods, getter), |state| {
            ffi::lua_pushcclosure(state, index_trampoline, 2)
        })
    }
}

unsafe extern "C-unwind" fn index_trampoline(state: *mut ffi::lua_State) -> c_int {
    ffi::lua_settop(state, 2);
    // lua_rawget needs a table: `debug.setupvalue` may have put anything
    // there, and then there are no methods.
    if ffi::lua_type(state, ffi::lua_upvalueindex(1)) == ffi::LUA_TTABLE {
        ffi::lua_pushvalue(state, 2);
        if ffi::lua_rawget(state, ffi::lua_upvalueindex(1)) != ffi::LUA_TNIL {
            return 1;
        }
        ffi::lua_pop(state, 1);
    }
    if ffi::lua_type(state, ffi::lua_upvalueindex(2)) == ffi::LUA_TNIL {
        return 0;
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(2));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, 2, 1);
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use memlua_runtime::{Errno, Error as RtError};

    /// A C function that calls its upvalue through `call_api`, as a fast
    /// path's fallback does.
    unsafe extern "C-unwind" fn via_call_api(state: *mut ffi::lua_State) -> c_int {
        let n = ffi::lua_gettop(state);
        call_api(state, ffi::lua_upvalueindex(1), n)
    }

    #[test]
    fn call_api_raises_from_the_callers_frame() {
        let lua = crate::new_state().unwrap();
        crate::errors::install(&lua).unwrap();
        let api = api_function(&lua, |_, (a, b): (i64, i64)| {
            if a < 0 {
                return Err(Fail::Rt(RtError::new(Errno::EFAULT, "t.f", "negative")));
            }
            Ok((a + b, a * b))
        })
        .unwrap();
        // SAFETY: one upvalue pushed by exec_raw, popped by pushcclosure.
        let f = unsafe {
            lua.exec_raw::<Function>(api, |state| ffi::lua_pushcclosure(state, via_call_api, 1))
        }
        .unwrap();
        lua.globals().set("f", f).unwrap();
        let (sum, product): (i64, i64) = lua.load("return f(3, 4)").eval().unwrap();
        assert_eq!((sum, product), (7, 12));
        let trace: String = lua
            .load(
                "local ok, tb = xpcall(function() local t = {g = f}; t.g(-1, 0) end, \
                 function(e) return debug.traceback(tostring(e), 2) end)\n\
                 return tb",
            )
            .set_name("=t")
            .eval()
            .unwrap();
        assert!(trace.starts_with("t.f: EFAULT: negative"), "{trace}");
        assert_eq!(trace.matches("[C]:").count(), 2, "{trace}"); // f, xpcall
        assert!(trace.contains("[C]: in function 'f'"), "{trace}");
        assert!(!trace.contains("[C]: in ?"), "{trace}");
    }
}
