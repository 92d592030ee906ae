//! How failures reach Lua (API.md, Errors).
//!
//! A runtime failure becomes a Lua error whose *value* is a table sharing one
//! metatable (`e.errno`, `e.code`, `e.op`, `e.addr`, `e.done`, `e.message`,
//! `tostring(e)` = the runtime error's Display); a bad argument stays a plain
//! string in `luaL_argerror`'s words, with the caller's `file:line:` in front
//! as `luaL_error` puts it.
//!
//! mlua raises every error returned by a Rust callback as its own wrapped
//! userdata, which is neither of those. So each API function is two layers:
//! an mlua callback that never fails for our own errors but returns
//! `false, value` instead, and around it a tiny C closure
//! ([`raise_trampoline`]) that calls it and, on `false`, raises `value` with
//! `lua_error`. The trampoline holds no Rust values, so the longjmp of
//! `lua_error` skips no destructor. The same closure shape is what a later
//! hand-written `lua_CFunction` fast path would use, so nothing here stands
//! in its way.

use std::ffi::c_int;

use memlua_runtime::Error as RtError;
use mlua::{ffi, FromLuaMulti, Function, IntoLuaMulti, Lua, MultiValue, Table, Value};

/// Why an API call failed, before it is turned into a Lua error.
#[derive(Debug)]
pub enum Fail {
    /// A complete `luaL_argerror`-style message, without position.
    Arg(String),
    /// A runtime error: raised as an error table.
    Rt(RtError),
    /// An error of mlua itself (out of memory, a failing conversion):
    /// raised as mlua raises it.
    Lua(mlua::Error),
}

impl From<RtError> for Fail {
    fn from(e: RtError) -> Self {
        Fail::Rt(e)
    }
}

impl From<mlua::Error> for Fail {
    fn from(e: mlua::Error) -> Self {
        Fail::Lua(e)
    }
}

/// The result type of every API function body.
pub type Res<T> = std::result::Result<T, Fail>;

/// `bad argument #pos to 'fname' (msg)`, as `luaL_argerror` words it.
pub fn arg_error(pos: usize, fname: &str, msg: impl std::fmt::Display) -> Fail {
    Fail::Arg(format!("bad argument #{pos} to '{fname}' ({msg})"))
}

/// A method called on something that is not its object. Lua words this
/// `calling 'read32' on bad self (...)` when the call is `x:read32()`.
pub fn bad_self(fname: &str, expected: &str, got: &Value) -> Fail {
    Fail::Arg(format!(
        "calling '{fname}' on bad self ({expected} expected, got {})",
        type_name(got)
    ))
}

/// The type name `luaL_typeerror` would print: `__name` for userdata.
pub fn type_name(v: &Value) -> String {
    if let Value::UserData(ud) = v {
        if let Ok(mt) = ud.metatable() {
            if let Ok(name) = mt.get::<String>("__name") {
                return name;
            }
        }
    }
    match v {
        // Lua has one type for both; mlua's names tell them apart.
        Value::Integer(_) | Value::Number(_) => "number".into(),
        Value::LightUserData(_) => "userdata".into(),
        other => other.type_name().to_string(),
    }
}

const ERROR_MT: &str = "memlua.error";
const ERROR_TEXT: &str = "memlua.error_text";

/// Creates the error metatable once per state. The Display text of each
/// error lives in a weak-keyed side table, so an error table carries exactly
/// the fields API.md names and nothing else.
pub fn install(lua: &Lua) -> mlua::Result<()> {
    // Several sessions in one state share it.
    if lua
        .named_registry_value::<Option<Table>>(ERROR_MT)?
        .is_some()
    {
        return Ok(());
    }
    let text = lua.create_table()?;
    let weak = lua.create_table()?;
    weak.set("__mode", "k")?;
    text.set_metatable(Some(weak))?;
    lua.set_named_registry_value(ERROR_TEXT, &text)?;

    let mt = lua.create_table()?;
    mt.set("__name", "memlua.error")?;
    mt.set(
        "__tostring",
        lua.create_function(|lua, t: Table| {
            let text: Table = lua.named_registry_value(ERROR_TEXT)?;
            match text.raw_get::<Option<String>>(&t)? {
                Some(s) => Ok(s),
                // A copy made by a script: rebuild the main part.
                None => Ok(format!(
                    "{}: {}: {}",
                    t.get::<String>("op").unwrap_or_default(),
                    t.get::<String>("errno").unwrap_or_default(),
                    t.get::<String>("message").unwrap_or_default()
                )),
            }
        })?,
    )?;
    lua.set_named_registry_value(ERROR_MT, mt)
}

/// The Lua value of a runtime error.
pub fn error_value(lua: &Lua, e: &RtError) -> mlua::Result<Table> {
    let t = lua.create_table_with_capacity(0, 6)?;
    t.raw_set("errno", e.errno.name())?;
    t.raw_set("code", e.errno.code())?;
    t.raw_set("op", e.op.as_str())?;
    if let Some(a) = e.addr() {
        t.raw_set("addr", a as i64)?;
    }
    if let Some(d) = e.done {
        t.raw_set("done", d as i64)?;
    }
    t.raw_set("message", e.full_message().as_ref())?;
    let mt: Table = lua.named_registry_value(ERROR_MT)?;
    t.set_metatable(Some(mt))?;
    let text: Table = lua.named_registry_value(ERROR_TEXT)?;
    text.raw_set(&t, e.to_string())?;
    Ok(t)
}

/// Whether `v` is one of our error tables: for hosts (the CLI, the
/// harness) that print errors.
pub fn is_error_value(lua: &Lua, v: &Value) -> bool {
    let Value::Table(t) = v else { return false };
    let Ok(mt) = lua.named_registry_value::<Table>(ERROR_MT) else {
        return false;
    };
    t.metatable().is_some_and(|m| m == mt)
}

/// Wraps an API function body as a Lua function that raises our errors as
/// API.md describes.
pub fn api_function<A, R, F>(lua: &Lua, f: F) -> mlua::Result<Function>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, A) -> Res<R> + 'static,
{
    let inner = lua.create_function(move |lua, args: A| match f(lua, args) {
        Ok(r) => {
            let mut out = r.into_lua_multi(lua)?;
            out.push_front(Value::Boolean(true));
            Ok(out)
        }
        Err(fail) => failure(lua, fail),
    })?;
    // SAFETY: `exec_raw` runs the closure with `inner` on top of the stack
    // in a protected call; `lua_pushcclosure` pops it as the upvalue and
    // leaves the new closure, which `exec_raw` returns.
    unsafe {
        lua.exec_raw::<Function>(inner, |state| {
            ffi::lua_pushcclosure(state, raise_trampoline, 1)
        })
    }
}

/// `false, value` for the trampoline, or mlua's own error.
fn failure(lua: &Lua, fail: Fail) -> mlua::Result<MultiValue> {
    match fail {
        Fail::Arg(msg) => (false, msg).into_lua_multi(lua),
        Fail::Rt(e) => (false, error_value(lua, &e)?).into_lua_multi(lua),
        Fail::Lua(e) => Err(e),
    }
}

/// Calls upvalue 1 with this call's arguments; it answers `true, results...`
/// or `false, error`. Raises the error; a string gets the caller's position
/// first, as `luaL_error` does.
unsafe extern "C-unwind" fn raise_trampoline(state: *mut ffi::lua_State) -> c_int {
    let n = ffi::lua_gettop(state);
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(1));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, n, ffi::LUA_MULTRET);
    if ffi::lua_toboolean(state, 1) == 0 {
        if ffi::lua_type(state, 2) == ffi::LUA_TSTRING {
            ffi::luaL_where(state, 1);
            // Called from a fast path's fallback (a C function), level 1
            // has no line: the script is one level further out.
            if ffi::lua_rawlen(state, -1) == 0 {
                ffi::lua_pop(state, 1);
                ffi::luaL_where(state, 2);
            }
            ffi::lua_pushvalue(state, 2);
            ffi::lua_concat(state, 2);
        } else {
            ffi::lua_pushvalue(state, 2);
        }
        ffi::lua_error(state);
    }
    ffi::lua_remove(state, 1);
    ffi::lua_gettop(state)
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
    ffi::lua_pushvalue(state, 2);
    if ffi::lua_rawget(state, ffi::lua_upvalueindex(1)) != ffi::LUA_TNIL {
        return 1;
    }
    ffi::lua_pop(state, 1);
    if ffi::lua_type(state, ffi::lua_upvalueindex(2)) == ffi::LUA_TNIL {
        return 0;
    }
    ffi::lua_pushvalue(state, ffi::lua_upvalueindex(2));
    ffi::lua_insert(state, 1);
    ffi::lua_call(state, 2, 1);
    1
}

/// The innermost message of an mlua error (a Lua callback's own words,
/// without mlua's "callback error" wrapping and traceback).
pub fn lua_message(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(s) => s.clone(),
        mlua::Error::CallbackError { cause, .. } => lua_message(cause),
        mlua::Error::WithContext { cause, .. } => lua_message(cause),
        other => other.to_string(),
    }
}

/// Wraps a method body: the first argument must be a `T` userdata (else
/// "calling 'name' on bad self"), the rest are `A`.
pub fn api_method<T, A, R, F>(
    lua: &Lua,
    name: &'static str,
    expected: &'static str,
    f: F,
) -> mlua::Result<Function>
where
    T: 'static,
    A: FromLuaMulti,
    R: IntoLuaMulti,
    F: Fn(&Lua, &T, A) -> Res<R> + 'static,
{
    api_function(lua, move |lua, (this, args): (Value, A)| {
        let Value::UserData(ud) = &this else {
            return Err(bad_self(name, expected, &this));
        };
        let obj = ud
            .borrow::<T>()
            .map_err(|_| bad_self(name, expected, &this))?;
        f(lua, &obj, args)
    })
}
